#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: lab_info
short_description: List the Clabernetes labs skyforge.labs deployed, and their nodes
version_added: 0.2.0
author: skyforge.labs team (@skyforge)
description:
  - Lists the labs this collection deployed (Topologies labelled
    C(app.kubernetes.io/managed-by=skyforge.labs)) in O(namespaces), or in every namespace, or
    one lab by O(name). A Topology deployed by anything else is not listed.
  - Per lab the Topology API version, age, the digest of what was applied, the netlab inputs
    digest it was rendered from and the sha256 of its bundle (when c9s_apply was given it); per
    node its kind, image, launcher Deployment, readiness as the Clabernetes controller reports it
    (with the launcher's state when not ready) and the Service that exposes it, with its
    addresses and ports.
  - Reads only; always runs, also in check mode.
options:
  namespaces:
    description:
      - Namespaces to look in. Empty means every namespace, which needs C(list) on
        C(topologies) cluster-wide.
    type: list
    elements: str
    default: []
  name:
    description: Only the lab (Topology) of this name.
    type: str
extends_documentation_fragment:
  - skyforge.labs.k8s_connection
requirements:
  - kubernetes (Python client, < 37)
notes:
  - The Role in C(roles/cluster_access/files/role.yaml) grants what it reads.
'''

EXAMPLES = r'''
- name: Every lab in two namespaces
  skyforge.labs.lab_info:
    namespaces: [lab-a, lab-b]
  register: labs

- name: One lab
  skyforge.labs.lab_info:
    namespaces: [lab-a]
    name: multi-vendor
'''

RETURN = r'''
labs:
  description: The labs found, sorted by namespace and name.
  returned: success
  type: list
  elements: dict
  sample:
    - name: multi-vendor
      namespace: lab-a
      api_version: c9s.run/v1alpha1
      created: "2026-12-03T10:00:00Z"
      age_seconds: 3600
      applied_sha256: 5e0c...
      bundle_sha256: 9b1f...
      inputs_sha256: 64a4...
      netlab_version: "26.10"
      ready: false
      ready_nodes: 4
      total_nodes: 5
      error: null
      nodes:
        - name: c1
          kind: cisco_c8000v
          image: vrnetlab/cisco_c8000v:17.13.01a
          launcher: c1
          ready: false
          reason: "controller reports notready; launcher: 0/1 ready"
          service: {name: c1, type: LoadBalancer, cluster_ip: 10.0.0.12, dns: c1.lab-a.svc,
                    load_balancer: [], ports: [{name: port-22-tcp, port: 22, protocol: TCP}]}
'''

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.skyforge.labs.plugins.module_utils.c9s.labs import list_labs
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.service import connect_from
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.k8s import client as k8s
from ansible_collections.skyforge.labs.plugins.module_utils.k8s.args import with_connection_args


def main():
    module = AnsibleModule(
        argument_spec=with_connection_args(
            namespaces=dict(type="list", elements="str", default=[]),
            name=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    if not k8s.HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=traceback.format_exc())
    p = module.params
    try:
        api = connect_from(p)
        try:
            labs = list_labs(api, p["namespaces"], p["name"])
        finally:
            api.close()
    except LabError as exc:
        module.fail_json(msg=exc.message)
    module.exit_json(changed=False, labs=labs)


if __name__ == "__main__":
    main()
