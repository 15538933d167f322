#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: host_prereqs
short_description: Check that a host can run a lab, before deploying it
version_added: 0.1.0
author: skyforge.labs team (@skyforge)
description:
  - Reads C(/proc), C(/sys), C(/dev) and C(/etc) (below O(root)) and reports, for each check,
    C(ok), C(warn) or C(fail) with what was found and how to fix it. Nothing is changed.
  - "Checks: C(kvm) (C(/dev/kvm) is a character device the O(lab_user) can open read-write,
    judged from its mode, owner and group against C(/etc/passwd) and C(/etc/group)),
    C(cpu_virt) (C(vmx) or C(svm) in C(/proc/cpuinfo), which containerlab requires for
    VM-based kinds), C(nested_virt) (on a VM the guest CPU must show C(vmx)/C(svm); on bare
    metal C(kvm_intel)/C(kvm_amd) C(nested)), C(kernel_modules) (loaded per C(/proc/modules)
    or C(/sys/module), built in per C(modules.builtin), loadable per C(modules.dep)),
    C(memory) and C(cpus) (against the lab's needs), C(disk) (free space at O(disk_path)),
    C(container_runtime) (binary and socket of docker/podman in C(local) mode,
    containerd/CRI-O in C(cluster) mode), C(containerlab) (C(local) mode: version >= 0.75
    and O(lab_user) in C(clab_admins)), C(inotify) (C(max_user_instances) >= 512 and
    C(max_user_watches) >= 524288) and C(cgroup_v2)."
  - "Needs come from O(topology). Kernel modules per netlab feature (the C(module) list of
    C(host_vars/<node>/topology.json) beside the clab.yml or in the bundle): C(lag) ->
    C(bonding); C(mpls) -> C(mpls_router), C(mpls_iptunnel); C(vxlan) -> C(vxlan);
    C(vrf) -> C(vrf). A bare clab.yml carries no features; add modules with O(modules)."
  - "Memory and vCPUs per node by kind (sum over nodes): cisco_n9kv 8192 MiB/2,
    juniper_vjunosevolved (vPTX) 8192/4, cisco_csr1000v 4096/1, cisco_c8000v 4096/1,
    juniper_vmx 5120/3, juniper_vsrx 4096/2, juniper_vjunosrouter and juniper_vjunosswitch
    5120/4, nokia_sros 4096/2, cisco_asav 2048/1, arista_veos 2048/1, cisco_vios 512/1,
    cisco_viosl2 768/1, cisco_iol 512/1, ceos 2048/1, nokia_srlinux 2048/1, sonic-vs 1024/1,
    cvx 512/1, vyosnetworks_vyos 512/1, linux 256/1, bridge/ovs-bridge/host 0; other kinds
    1024/1 (C(vr-*) kinds 4096/2). Legacy C(vr-*) aliases map to the same rows. Sources: the
    project reference notes (NX-OS 6-10 GB, vPTX 8 GB, CSR/C8000v 4 GB, the VM-based kind
    list), vrnetlab's default VM sizes, Arista's cEOS minimum."
  - Without O(topology) the VM checks assume VM-based nodes may run and memory/CPUs are only
    reported.
options:
  topology:
    description:
      - A containerlab topology (C(clab.yml) or a directory holding one) or a lab bundle
        (C(.tar.gz)) to derive needs from.
    type: path
  topology_origin:
    description:
      - What to call O(topology) in messages, when it is a copy of a file elsewhere (the
        host_prereqs role copies the control node's file to each host and passes the
        original path here).
    type: str
  checks:
    description:
      - The checks to run; all when empty.
    type: list
    elements: str
    choices: [kvm, cpu_virt, nested_virt, kernel_modules, memory, cpus, disk, container_runtime,
              containerlab, inotify, cgroup_v2]
    default: []
  root:
    description:
      - Where the host's filesystem is. Tests point it at prepared trees; a pod can point it
        at a host mount.
    type: path
    default: /
  fail_on:
    description:
      - C(fail) fails the task when any check fails, C(warn) also on warnings, C(never) only
        reports.
    type: str
    choices: [fail, warn, never]
    default: fail
  lab_user:
    description:
      - The account that will run the lab (for C(/dev/kvm) access and C(clab_admins)).
        Defaults to the remote user.
    type: str
  mode:
    description:
      - C(local) for hosts that run containerlab themselves, C(cluster) for Kubernetes
        workers that run Clabernetes launcher pods.
    type: str
    choices: [local, cluster]
    default: local
  modules:
    description:
      - Extra kernel modules to require, on top of those derived from O(topology).
    type: list
    elements: str
    default: []
  disk_path:
    description:
      - Where container images and lab files are stored (below O(root)).
    type: str
    default: /var/lib
  min_free_disk_gb:
    description:
      - Free space wanted at O(disk_path), in GiB.
    type: int
    default: 20
notes:
  - Supports check mode.
'''

EXAMPLES = r'''
- name: Can this worker run the lab's vrnetlab nodes?
  skyforge.labs.host_prereqs:
    topology: "{{ lab_workdir }}/bundle.tar.gz"
    mode: cluster

- name: Report only
  skyforge.labs.host_prereqs:
    checks: [kvm, cpu_virt, nested_virt]
    fail_on: never
  register: prereqs
'''

RETURN = r'''
checks:
  description: One entry per check that ran.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The check.
      type: str
      sample: kvm
    status:
      description: C(ok), C(warn) or C(fail).
      type: str
      sample: fail
    detail:
      description: What was found.
      type: str
      sample: /dev/kvm is not readable and writable by lab (mode 0600, owner uid 0, group root)
    remedy:
      description: How to fix it; null when ok.
      type: str
      sample: add lab to group kvm (usermod -aG kvm lab, then log in again)
summary:
  description: One line with the counts and the checks that did not pass.
  returned: always
  type: str
  sample: "11 checks: 9 ok, 1 warn, 1 fail (kvm fail, inotify warn)"
failed_checks:
  description: Names of the checks that fail the task under O(fail_on).
  returned: always
  type: list
  elements: str
needs:
  description: What the lab needs (null without topology or modules).
  returned: always
  type: dict
  contains:
    nodes:
      description: Per node name, kind, memory_mb, cpus and vm.
      type: list
      elements: dict
    kinds:
      description: The kinds used.
      type: list
      elements: str
    vm_kinds:
      description: The VM-based kinds used.
      type: list
      elements: str
    unknown_kinds:
      description: Kinds not in the table (default figures assumed).
      type: list
      elements: str
    memory_mb:
      description: Total memory wanted, MiB.
      type: int
    cpus:
      description: Total vCPUs wanted.
      type: int
    max_node_cpus:
      description: vCPUs of the largest node.
      type: int
    modules:
      description: Kernel module -> the features and nodes that need it.
      type: dict
'''

import getpass

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.host.prereqs import CHECKS, host_prereqs


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            topology=dict(type="path"),
            topology_origin=dict(type="str"),
            checks=dict(type="list", elements="str", choices=list(CHECKS), default=[]),
            root=dict(type="path", default="/"),
            fail_on=dict(type="str", choices=["fail", "warn", "never"], default="fail"),
            lab_user=dict(type="str"),
            mode=dict(type="str", choices=["local", "cluster"], default="local"),
            modules=dict(type="list", elements="str", default=[]),
            disk_path=dict(type="str", default="/var/lib"),
            min_free_disk_gb=dict(type="int", default=20),
        ),
        supports_check_mode=True,
    )
    params = dict(module.params, lab_user=module.params["lab_user"] or getpass.getuser())
    try:
        result = host_prereqs(params)
    except LabError as exc:
        module.fail_json(msg=exc.message)
    message = result.pop("message")
    if result["failed_checks"]:
        module.fail_json(msg=message + "\n" + result["summary"], **result)
    module.exit_json(changed=False, **result)


def main():
    run_module()


if __name__ == "__main__":
    main()
