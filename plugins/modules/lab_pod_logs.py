#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: lab_pod_logs
short_description: Save the logs of a lab's Clabernetes launcher pods
version_added: 0.1.0
author: skyforge.labs team (@skyforge)
description:
  - Lists the pods labelled C(clabernetes/topologyOwner=<topology>) in O(namespace) and writes
    each container's log to C(<dest>/<pod>/<container>.log), at most O(limit_bytes) per
    container, streamed through a temporary file.
  - Containers without a log yet (pod pending or not scheduled) are listed in C(unavailable) with
    the API server's reason; they do not fail the task.
  - The skyforge.labs.lab_artifacts role uses it to keep launcher logs with a run.
options:
  namespace:
    description: Namespace of the lab.
    type: str
    required: true
  topology:
    description: Name of the Clabernetes Topology.
    type: str
    required: true
  dest:
    description: Directory to write the logs into (created if missing).
    type: path
    required: true
  limit_bytes:
    description: Most bytes of log to keep per container (the newest are dropped beyond it).
    type: int
    default: 10485760
extends_documentation_fragment:
  - skyforge.labs.k8s_connection
requirements:
  - kubernetes (Python client, < 37)
notes:
  - Needs C(get)/C(list) on C(pods) and C(get) on C(pods/log) in the namespace.
  - Does not support check mode; it only writes log files below O(dest).
'''

EXAMPLES = r'''
- name: Keep the launcher logs of lab1
  skyforge.labs.lab_pod_logs:
    namespace: lab-lab1
    topology: lab1
    dest: /tmp/lab1-logs
'''

RETURN = r'''
files:
  description: The log files written or already up to date.
  returned: success
  type: list
  elements: str
  sample: [/tmp/lab1-logs/lab1-r1-6d9f7c-abcde/r1.log]
unavailable:
  description: Containers without a log, with the reason.
  returned: success
  type: list
  elements: dict
  sample: [{"pod": "lab1-r1-6d9f7c-abcde", "container": "r1", "reason": "pod does not have a host assigned"}]
'''

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.skyforge.labs.plugins.module_utils.k8s import client as k8s
from ansible_collections.skyforge.labs.plugins.module_utils.k8s.args import with_connection_args
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.logs import collect_pod_logs


def run_module():
    module = AnsibleModule(
        argument_spec=with_connection_args(
            namespace=dict(type="str", required=True),
            topology=dict(type="str", required=True),
            dest=dict(type="path", required=True),
            limit_bytes=dict(type="int", default=10485760),
        ),
        supports_check_mode=False,
    )
    if not k8s.HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=traceback.format_exc())
    p = module.params
    try:
        api = k8s.Api(k8s.connect(p["kubeconfig"], p["context"], p["host"], p["api_key"], p["ca_cert"],
                                  p["validate_certs"]))
        result = collect_pod_logs(api, p["namespace"], p["topology"], p["dest"], p["limit_bytes"])
    except LabError as exc:
        module.fail_json(msg=exc.message)
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
