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
  kubeconfig:
    description:
      - Path to a kubeconfig file. Defaults to E(K8S_AUTH_KUBECONFIG), then E(KUBECONFIG) or
        C(~/.kube/config), then the in-cluster service account.
    type: path
  context:
    description: Kubeconfig context to use (E(K8S_AUTH_CONTEXT)).
    type: str
  host:
    description: API server URL (E(K8S_AUTH_HOST)); overrides the kubeconfig.
    type: str
  api_key:
    description: Bearer token (E(K8S_AUTH_API_KEY)); overrides the kubeconfig.
    type: str
  ca_cert:
    description: Path to the cluster CA certificate (E(K8S_AUTH_SSL_CA_CERT)).
    type: path
  validate_certs:
    description: Verify the API server certificate (E(K8S_AUTH_VERIFY_SSL)).
    type: bool
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

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.skyforge.labs.plugins.module_utils import k8s
from ansible_collections.skyforge.labs.plugins.module_utils.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.pod_logs import collect_pod_logs


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            namespace=dict(type="str", required=True),
            topology=dict(type="str", required=True),
            dest=dict(type="path", required=True),
            limit_bytes=dict(type="int", default=10485760),
            kubeconfig=dict(type="path", fallback=(env_fallback, ["K8S_AUTH_KUBECONFIG"])),
            context=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_CONTEXT"])),
            host=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_HOST"])),
            api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["K8S_AUTH_API_KEY"])),
            ca_cert=dict(type="path", fallback=(env_fallback, ["K8S_AUTH_SSL_CA_CERT"])),
            validate_certs=dict(type="bool", fallback=(env_fallback, ["K8S_AUTH_VERIFY_SSL"])),
        ),
        supports_check_mode=False,
    )
    if not k8s.HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=traceback.format_exc())
    p = module.params
    try:
        client = k8s.connect(p["kubeconfig"], p["context"], p["host"], p["api_key"], p["ca_cert"],
                             p["validate_certs"])
        result = collect_pod_logs(client, p["namespace"], p["topology"], p["dest"], p["limit_bytes"])
    except LabError as exc:
        module.fail_json(msg=exc.message)
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
