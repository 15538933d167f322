#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: c9s_render
short_description: Render a lab into ConfigMaps and a Clabernetes Topology
version_added: 0.1.0
author: skyforge.labs team (@skyforge)
description:
  - Reads a lab bundle (as written by M(skyforge.labs.netlab_generate)) or a lab directory
    holding C(clab.yml) and writes one multi-document YAML file with the ConfigMaps that
    carry the lab's files, sorted by name, followed by the Clabernetes Topology.
  - Every file the containerlab topology references from inside the lab (binds at
    C(defaults), C(kinds), C(groups) and node level, C(startup-config) and C(license)
    paths) is delivered to its node through C(spec.deployment.filesFromConfigMap), mounted
    at the relative path containerlab resolves it against (Clabernetes runs containerlab
    in C(/clabernetes)). Inline startup-configs stay inside the definition.
  - Files with identical content are stored once. Non-UTF-8 files go to C(binaryData)
    byte for byte; executable files are mounted with mode C(execute).
  - ConfigMaps are packed deterministically under O(max_configmap_bytes), measured as
    the compact JSON size of each object; ConfigMap names derive from their content.
    Nothing is truncated or skipped; a file too large for any ConfigMap becomes a
    C(filesFromURL) entry under O(large_file_url), or fails the task.
  - Node and lab names that are not valid Kubernetes names are mapped to valid ones
    deterministically (the definition's links are rewritten accordingly); collisions fail.
  - The same inputs give byte-identical output; the file is only rewritten when its bytes
    change.
options:
  src:
    description:
      - The lab bundle (C(.tar.gz)) or a directory holding C(clab.yml).
      - Every bundle member is checked (no absolute paths, C(..), links or devices)
        before anything is used.
    type: path
    required: true
  dest:
    description: Path of the multi-document YAML file to write.
    type: path
    required: true
  namespace:
    description: Namespace of every rendered object (an RFC 1123 label).
    type: str
    required: true
  name:
    description:
      - Name of the Topology. Defaults to the lab name in C(clab.yml).
      - Mapped to a valid RFC 1123 label when it is not one (with a warning).
    type: str
  api_version:
    description: The Clabernetes API the Topology is rendered for.
    type: str
    default: c9s.run/v1alpha1
    choices: [c9s.run/v1alpha1, clabernetes.containerlab.dev/v1alpha1]
  max_configmap_bytes:
    description:
      - Budget for one ConfigMap, counted as its compact JSON serialisation (keys,
        escaped text, base64 of binary data and the object envelope). At most 1048576.
    type: int
    default: 900000
  large_file_url:
    description:
      - Base URL for files too large for a ConfigMap; such a file becomes a
        C(filesFromURL) entry C(<large_file_url>/<path in the lab>), and the task
        returns it in RV(large_files) so it can be uploaded there.
      - Without it, a file that does not fit fails the task.
    type: str
  labels:
    description:
      - Extra labels on every object. C(app.kubernetes.io/managed-by),
        C(skyforge.labs/lab) and C(skyforge.labs/component) are set by the module.
    type: dict
    default: {}
  expose:
    description: C(spec.expose) of the Topology, passed as given.
    type: dict
  status_probes:
    description:
      - C(spec.statusProbes) of the Topology; always sent, because the controller writes
        C(enabled=false) into a Topology that omits it.
      - "Defaults to C({enabled: false})."
    type: dict
  naming:
    description:
      - C(spec.naming) (immutable once the Topology exists). C(global) defers to the
        controller's setting.
    type: str
    default: global
    choices: [global, prefixed, non-prefixed]
  return_details:
    description:
      - Also return the per-node tables RV(mounts) and RV(files_from_url).
      - They grow with the lab (one entry per node and file, 4,000 for a 1,000-node lab
        with four files per node) and Ansible copies a task's result several times on its
        way back, which cost more than the render itself at that size; RV(counts) sums
        them up, and the manifests file holds them in full.
    type: bool
    default: false
attributes:
  check_mode:
    description: Renders into a temporary file and reports whether O(dest) would change.
    support: full
  diff_mode:
    description: Shows the manifests before and after, or a summary when they are large.
    support: full
notes:
  - Warnings are returned for known Clabernetes pitfalls, host paths outside the lab, linux
    nodes configured by netlab in C(ns) mode, single-file C(/etc/hosts) binds, and
    C(bridge) nodes on C(c9s.run).
'''

EXAMPLES = r'''
- name: Render the lab bundle for the c9s.run API
  skyforge.labs.c9s_render:
    src: /srv/labs/frr/bundle.tar.gz
    dest: /srv/labs/frr/manifests.yml
    namespace: lab-frr
  register: rendered

- name: Render for Clabernetes v0.6, serving big images from a web server
  skyforge.labs.c9s_render:
    src: /srv/labs/big
    dest: /srv/labs/big/manifests.yml
    namespace: lab-big
    api_version: clabernetes.containerlab.dev/v1alpha1
    large_file_url: https://files.example.com/labs/big
    labels:
      team: netops
    expose:
      exposeType: ClusterIP
'''

RETURN = r'''
dest:
  description: The manifests file.
  returned: success
  type: str
  sample: /srv/labs/frr/manifests.yml
manifest_sha256:
  description: sha256 of the manifests file content.
  returned: success
  type: str
  sample: 7cbc098a57ca1db09440ac1aeb3c1e344723394b244146e1773cde3f4b1e09fa
manifest_bytes:
  description: Size of the manifests file.
  returned: success
  type: int
  sample: 13807
topology:
  description: The rendered Topology.
  returned: success
  type: dict
  contains:
    name:
      description: Topology name.
      type: str
      sample: frr
    namespace:
      description: Its namespace.
      type: str
      sample: lab-frr
    api_version:
      description: Its apiVersion.
      type: str
      sample: c9s.run/v1alpha1
configmaps:
  description: The ConfigMaps, sorted by name.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: ConfigMap name.
      type: str
      sample: frr-files-27b31b50c2
    bytes:
      description: Its compact JSON size, the figure checked against max_configmap_bytes.
      type: int
      sample: 9898
    keys:
      description: Number of files it holds.
      type: int
      sample: 6
inventory:
  description: The lab's inventory ConfigMap and credentials Secret, written after the file ConfigMaps.
  returned: success
  type: list
  elements: dict
  contains:
    kind:
      description: C(ConfigMap) or C(Secret).
      type: str
      sample: ConfigMap
    name:
      description: Object name.
      type: str
      sample: frr-inventory
counts:
  description: What the manifests hold, summed up.
  returned: success
  type: dict
  contains:
    nodes:
      description: Nodes in the lab.
      type: int
      sample: 3
    configmaps:
      description: ConfigMaps carrying the lab's files (the length of RV(configmaps)).
      type: int
      sample: 1
    configmap_bytes:
      description: Sum of the ConfigMaps' compact JSON sizes (RV(configmaps[].bytes)).
      type: int
      sample: 9898
    mounts:
      description: C(spec.deployment.filesFromConfigMap) entries, all nodes together.
      type: int
      sample: 12
    files_from_url:
      description: C(spec.deployment.filesFromURL) entries, all nodes together.
      type: int
      sample: 0
mounts:
  description: C(spec.deployment.filesFromConfigMap) per node (Kubernetes node names).
  returned: when O(return_details=true)
  type: dict
  sample: {"r1": [{"filePath": "node_files/r1/daemons", "configMapName": "frr-files-27b31b50c2",
           "configMapPath": "ada42dac858f299d316b-daemons", "mode": "read"}]}
files_from_url:
  description: C(spec.deployment.filesFromURL) per node.
  returned: when O(return_details=true)
  type: dict
  sample: {}
large_files:
  description: Files routed to O(large_file_url), to upload there.
  returned: success
  type: list
  elements: dict
  sample: [{"path": "images/big.qcow2", "url": "https://files.example.com/labs/big/images/big.qcow2",
            "size": 2000000, "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}]
renamed_nodes:
  description: Original node name to Kubernetes node name, for renamed nodes only.
  returned: success
  type: dict
  sample: {"R_1": "r-1-5d41402a"}
warnings:
  description: Known pitfalls found in the lab (also shown as task warnings).
  returned: when there are any
  type: list
  elements: str
  sample: ["bridge nodes lan1: Clabernetes v0.8 (c9s.run) rejects kind 'bridge' ..."]
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.skyforge.labs.plugins.module_utils.c9s.render_args import ARGUMENT_SPEC, render_params
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.common.yaml_text import HAS_YAML


def run_module():
    # The action plugin of the same name runs the render in the controller process when
    # the task runs there; this module is the path for any other target.
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    try:
        result = render_params(module.params, module.check_mode, module._diff)
    except LabError as exc:
        module.fail_json(msg=exc.message)
    # module.warn() is how warnings reach the task result (as `warnings`) and the screen;
    # passing `warnings` to exit_json is deprecated in ansible-core 2.19
    for warning in result.pop("warnings"):
        module.warn(warning)
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
