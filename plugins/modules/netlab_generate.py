#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: netlab_generate
short_description: Run netlab create for a topology and pack the lab into a reproducible bundle
version_added: 0.1.0
description:
  - Runs C(netlab create) (PyPI package C(networklab)) in a subprocess, non-interactively
    (stdin closed, a private C(HOME) inside O(workdir), inherited C(NETLAB_*) variables
    removed, a timeout that kills netlab's whole process group).
  - O(workdir) is replaced as a whole on every run. netlab runs at the real O(workdir)
    path because it records that path in its output; the previous content is moved aside
    first and restored if netlab or anything after it fails, so a failed run leaves the
    previous O(workdir) and O(bundle) untouched.
  - Files next to the topology that the lab references (relative C(clab.binds) sources,
    C(startup-config) and C(license) files) are copied into O(workdir) at the same
    relative path, so the lab is complete and the bundle carries every file it needs.
    A referenced relative file that does not exist is an error naming the node.
    Absolute host paths are left as they are and reported in RV(warnings).
  - The bundle is a deterministic C(.tar.gz) (sorted entries, mtime 0, uid/gid 0,
    normalised modes, gzip mtime 0) with C(manifest.json) at its root. It leaves out
    what is not reproducible or not part of the lab - C(netlab.snapshot.pickle) (netlab
    writes different bytes on every run), lock files and the module's state directory
    C(.skyforge-generate/) - so identical inputs give byte-identical bundles.
  - netlab writes its absolute working directory and the private HOME it ran with into
    C(group_vars/all/topology.json) (its search paths). Inside the bundle (not in
    O(workdir)) that HOME is rewritten to C(~) and the O(workdir) to C(.), the forms
    netlab starts from before expanding them (it runs in the lab directory), so the
    bundle does not depend on where O(workdir) is. The topology's own path, which netlab
    records in the comment heading C(hosts.yml), stays as it is.
  - The bundle is only rewritten when its bytes would change.
  - With C(--diff), the diff lists each lab file that was added, removed or changed as
    C(path mode sha256).
author: skyforge.labs team (@skyforge)
options:
  topology:
    description: The netlab topology file.
    type: path
    required: true
  workdir:
    description:
      - netlab's output directory. It must be new, empty or created by this module, and must
        not contain the topology; its whole content is replaced on every run.
    type: path
    required: true
  bundle:
    description: Path of the C(.tar.gz) bundle to write (outside O(workdir)).
    type: path
    required: true
  provider:
    description: netlab virtualization provider (C(netlab create -p)).
    type: str
    default: clab
  settings:
    description:
      - Topology settings passed as C(netlab create -s key=value), in sorted key order.
        Values must be scalars; put structured data into a O(defaults) file.
    type: dict
    default: {}
  plugins:
    description: netlab plugins to add (C(--plugin)).
    type: list
    elements: str
    default: []
  defaults:
    description: netlab defaults files (C(--defaults)), in order.
    type: list
    elements: path
    default: []
  environment:
    description:
      - Extra C(NETLAB_*) environment variables for netlab (for example C(NETLAB_DEVICE)).
        Other names are rejected; C(NETLAB_*) variables of the calling environment are not
        passed on.
    type: dict
    default: {}
  timeout:
    description: Seconds netlab may run before it and its children are killed.
    type: int
    default: 600
attributes:
  check_mode:
    description: Runs netlab in a temporary directory and reports what would change.
    support: full
  diff_mode:
    description: Lists the lab files that were added, removed or changed.
    support: full
notes:
  - Check mode runs netlab in a temporary directory (nothing is written to O(workdir) or
    O(bundle)) and reports whether the bundle or O(workdir) would change.
  - A C(netlab.lock) in O(workdir) means a lab started there with C(netlab up) is still
    running; the module refuses to regenerate it and says how to clean up.
requirements:
  - networklab (the netlab CLI) next to the Python interpreter or on PATH
  - PyYAML
"""

EXAMPLES = r"""
- name: Generate the lab and its bundle
  skyforge.labs.netlab_generate:
    topology: examples/frr-small/topology.yml
    workdir: out/frr-small/lab
    bundle: out/frr-small/bundle.tar.gz

- name: Generate with settings, a plugin and an extra netlab variable
  skyforge.labs.netlab_generate:
    topology: examples/multi-vendor/topology.yml
    workdir: out/mv/lab
    bundle: out/mv/bundle.tar.gz
    settings:
      defaults.multilab.id: 2
    plugins: [multilab]
    environment:
      NETLAB_DEVICE: frr
    timeout: 300
  register: lab
"""

RETURN = r"""
lab_name:
  description: The containerlab lab name (C(name) in clab.yml).
  returned: success
  type: str
  sample: frr-small
nodes:
  description: Node names, sorted.
  returned: success
  type: list
  elements: str
  sample: [r1, r2, r3]
clab_file:
  description: Path of the containerlab topology netlab wrote (null for other providers).
  returned: success
  type: str
  sample: /srv/labs/frr-small/lab/clab.yml
workdir:
  description: Absolute, resolved O(workdir).
  returned: success
  type: str
bundle:
  description: Absolute path of the bundle.
  returned: success
  type: str
bundle_sha256:
  description: sha256 of the bundle bytes (written, or that would be written in check mode).
  returned: success
  type: str
bundle_changed:
  description: Whether the bundle bytes changed (or would change).
  returned: success
  type: bool
workdir_changed:
  description: Whether the lab files in O(workdir) changed (the pickle and state excluded).
  returned: success
  type: bool
manifest:
  description:
    - The bundle's manifest.json - C(schema) (C(skyforge.labs/bundle/v1)), C(lab_name),
      C(nodes), C(netlab_version), C(provider), C(inputs_sha256), C(excluded) and
      C(files) (path, size, mode, sha256 of every file).
  returned: success
  type: dict
warnings:
  description:
    - Things the lab depends on that the bundle does not carry (host paths), also shown
      as task warnings.
  returned: when there are any
  type: list
  elements: str
netlab_version:
  description: Version of netlab that generated the lab.
  returned: success
  type: str
  sample: "26.10"
command:
  description: The netlab arguments that were run.
  returned: success
  type: list
  elements: str
stdout:
  description: netlab's standard output (the last 4000 characters).
  returned: success
  type: str
stderr:
  description: netlab's standard error (the last 4000 characters).
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.common.yaml_text import HAS_YAML
from ansible_collections.skyforge.labs.plugins.module_utils.netlab.generate import generate


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            topology=dict(type="path", required=True),
            workdir=dict(type="path", required=True),
            bundle=dict(type="path", required=True),
            provider=dict(type="str", default="clab"),
            settings=dict(type="dict", default={}),
            plugins=dict(type="list", elements="str", default=[]),
            defaults=dict(type="list", elements="path", default=[]),
            environment=dict(type="dict", default={}),
            timeout=dict(type="int", default=600),
        ),
        supports_check_mode=True,
    )
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    params = dict((k, module.params[k]) for k in (
        "topology", "workdir", "bundle", "provider", "settings", "plugins", "defaults",
        "environment", "timeout"))
    try:
        result = generate(check_mode=module.check_mode, **params)
    except LabError as exc:
        details = dict((k, v) for k, v in exc.details.items() if k in ("stdout", "stderr", "rc"))
        module.fail_json(msg=exc.message, **details)
    # module.warn() is how warnings reach the task result (as `warnings`) and the screen;
    # passing `warnings` to exit_json is deprecated in ansible-core 2.19
    for warning in result.pop("warnings"):
        module.warn(warning)
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
