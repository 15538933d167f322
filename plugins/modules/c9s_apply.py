#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: c9s_apply
short_description: Deploy a rendered Clabernetes lab to Kubernetes, or remove it
version_added: 0.1.0
author: skyforge.labs team (@skyforge)
description:
  - Server-side applies the ConfigMaps and then the Topology that M(skyforge.labs.c9s_render)
    wrote, never sending C(status), with a field manager.
  - Prunes ConfigMaps (and Topologies) carrying this lab's labels that the new render no longer
    contains, only after the new Topology has been accepted.
  - Optionally waits until Clabernetes reports the lab ready, ignoring a Ready that predates
    this change; on timeout the error lists per-node readiness, pod phases and events.
  - With O(state=absent) deletes the Topology, then the lab's ConfigMaps, and waits until they
    are gone, and until the Kubernetes garbage collector has removed what the Clabernetes
    controller made for the Topology (found by the label C(<prefix>/topologyOwner), prefix
    C(clabernetes) or C(c9s.run)) within O(wait_timeout); those are reported too.
  - With C(c9s.run/v1alpha1) (Clabernetes v0.7+) the controller compiles the Topology into
    LauncherProfile, Node and Link objects and names Nodes and launcher Deployments after the
    node alone (C(spec.naming) is ignored), so a lab whose node names a Node of another lab in
    the namespace already holds is refused before anything is applied.
  - The least-privilege Role this module needs ships in the collection
    (C(roles/cluster_access/files/)); the role M(skyforge.labs.cluster_access) binds it.
options:
  src:
    description:
      - The manifests file M(skyforge.labs.c9s_render) wrote (multi-document YAML).
      - Required for O(state=present); for O(state=absent) either O(src) or O(lab_name) and
        O(namespace).
    type: path
  lab_name:
    description:
      - The lab (Topology) name, to remove a lab with O(state=absent) without its manifests file.
    type: str
  state:
    description: Whether the lab should be deployed or removed.
    type: str
    choices: [present, absent]
    default: present
  namespace:
    description:
      - Namespace for every object; overrides C(metadata.namespace) in O(src).
      - With O(state=absent) and O(lab_name), in a pod using its service account (in-cluster
        configuration, see O(kubeconfig)), defaults to the pod's namespace.
    type: str
  create_namespace:
    description:
      - Create the namespace when missing, labelled C(pod-security.kubernetes.io/enforce=privileged)
        as Clabernetes launchers need (needs the shipped ClusterRole).
    type: bool
    default: false
  prune:
    description: Delete this lab's labelled objects that the new render no longer contains.
    type: bool
    default: true
  wait:
    description: Wait until the served Clabernetes API reports the lab ready after this change.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for readiness (O(wait)) or for deleted objects to disappear.
    type: int
    default: 600
  api_version:
    description:
      - Topology API to use. V(auto) discovers which one the cluster serves, preferring the
        one the manifests were rendered for.
    type: str
    choices: [auto, c9s.run/v1alpha1, clabernetes.containerlab.dev/v1alpha1]
    default: auto
  field_manager:
    description: Server-side apply field manager name.
    type: str
    default: skyforge-labs
  source_sha256:
    description:
      - sha256 of the lab bundle the manifests were rendered from (the C(bundle_sha256) that
        M(skyforge.labs.netlab_generate) returns). Recorded on the Topology as the annotation
        C(skyforge.labs/source-sha256), so M(skyforge.labs.lab_info) can say which bundle a
        running lab came from. A new value is a change of the Topology.
      - Ignored with O(state=absent).
    type: str
  force_conflicts:
    description: Take over fields another field manager owns (server-side apply C(force)).
    type: bool
    default: false
extends_documentation_fragment:
  - skyforge.labs.k8s_connection
requirements:
  - kubernetes (Python client, < 37)
  - PyYAML
notes:
  - Supports check mode (server-side dry run) and diff mode (before/after of the fields we manage).
  - Topologies have no status subresource; Ready counts only once the controller has rewritten
    the Topology after this change.
"""

EXAMPLES = r"""
- name: Deploy the rendered lab and wait for it
  skyforge.labs.c9s_apply:
    src: "{{ lab_render.dest }}"
    namespace: c9s-demo
    create_namespace: true
    wait: true
    wait_timeout: 900

- name: Remove a lab knowing only its name
  skyforge.labs.c9s_apply:
    lab_name: demo
    namespace: c9s-demo
    state: absent
"""

RETURN = r"""
objects:
  description: Every object handled, in order, with what happened to it.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: Namespace, ConfigMap or Topology; with O(state=absent) also the kinds the controller made.
      type: str
    name:
      description: Object name.
      type: str
    action:
      description: created, updated, unchanged or deleted.
      type: str
    by:
      description:
        - C(garbage collector) for what the Clabernetes controller had made for a deleted
          Topology (Deployment, Service, Node, Link, LauncherProfile, ...); absent otherwise.
      type: str
      returned: when O(state=absent)
  sample: [{"kind": "ConfigMap", "name": "demo-r1-5f2a", "action": "created"},
           {"kind": "Topology", "name": "demo", "action": "created"}]
api_version:
  description: The Topology API version used.
  returned: always
  type: str
  sample: c9s.run/v1alpha1
namespace:
  description: The namespace used.
  returned: always
  type: str
lab:
  description: The lab (Topology) name.
  returned: always
  type: str
readiness:
  description: Readiness as the served API reports it, when O(wait) was set.
  returned: when wait and not check mode
  type: dict
  contains:
    ready:
      description: True.
      type: bool
    ready_nodes:
      description: Nodes reported ready.
      type: int
    total_nodes:
      description: Nodes in the Topology.
      type: int
    nodes:
      description: Per-node readiness (clabernetes.containerlab.dev only).
      type: dict
    waited:
      description: Seconds spent waiting.
      type: float
    launchers:
      description:
        - Whether the launcher Deployments were checked to have rolled out
          (clabernetes.containerlab.dev only; that controller reports Ready from Deployments
          that have not yet restarted for a change).
      type: dict
      contains:
        checked:
          description: True when the Deployments were read and every one had rolled out.
          type: bool
        deployments:
          description: Launcher Deployments checked.
          type: int
        reason:
          description: Why they were not checked (for example a 403 on deployments).
          type: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.skyforge.labs.plugins.module_utils.c9s.contract import API_VERSIONS
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.service import run
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.common.yaml_text import HAS_YAML
from ansible_collections.skyforge.labs.plugins.module_utils.k8s import client as k8s
from ansible_collections.skyforge.labs.plugins.module_utils.k8s.args import with_connection_args


def run_module():
    module = AnsibleModule(
        argument_spec=with_connection_args(
            src=dict(type="path"),
            lab_name=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            namespace=dict(type="str"),
            create_namespace=dict(type="bool", default=False),
            prune=dict(type="bool", default=True),
            wait=dict(type="bool", default=False),
            wait_timeout=dict(type="int", default=600),
            api_version=dict(type="str", default="auto", choices=["auto"] + list(API_VERSIONS)),
            field_manager=dict(type="str", default="skyforge-labs"),
            force_conflicts=dict(type="bool", default=False),
            source_sha256=dict(type="str"),
        ),
        required_if=[("state", "present", ["src"])],
        required_one_of=[("src", "lab_name")],
        supports_check_mode=True,
    )
    if not k8s.HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=str(k8s.KUBERNETES_IMPORT_ERROR))
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    try:
        result = run(module.params, check_mode=module.check_mode)
    except LabError as exc:
        module.fail_json(msg=exc.message)
    diff = result.pop("diff", None)
    if module._diff and diff:
        result["diff"] = diff
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
