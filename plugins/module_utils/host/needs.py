# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a lab needs from a host: per-kind memory/CPU, VM-based kinds, kernel modules.

The table is the one documented in the host_prereqs module. Sources: the reference notes
(NX-OS 6-10 GB, vPTX 8 GB, CSR/C8000v 4 GB; the VM-based kind list containerlab checks
`vmx|svm` for; the feature -> kernel module rule), vrnetlab's default VM sizes for the
other VM kinds, and cEOS's documented 2 GB minimum. Figures are per node and deliberately
on the generous side: a lab that fits them boots; one that does not will swap or stall.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# kind: (memory MiB, vCPUs, VM-based: needs /dev/kvm and CPU virtualisation)
KIND_NEEDS = {
    "cisco_n9kv": (8192, 2, True),
    "juniper_vjunosevolved": (8192, 4, True),
    "cisco_csr1000v": (4096, 1, True),
    "cisco_c8000v": (4096, 1, True),
    "juniper_vmx": (5120, 3, True),
    "juniper_vsrx": (4096, 2, True),
    "juniper_vjunosrouter": (5120, 4, True),
    "juniper_vjunosswitch": (5120, 4, True),
    "nokia_sros": (4096, 2, True),
    "cisco_asav": (2048, 1, True),
    "cisco_vios": (512, 1, True),
    "cisco_viosl2": (768, 1, True),
    "cisco_iol": (512, 1, True),
    "arista_veos": (2048, 1, True),
    "ceos": (2048, 1, False),
    "arista_ceos": (2048, 1, False),
    "nokia_srlinux": (2048, 1, False),
    "srl": (2048, 1, False),
    "sonic-vs": (1024, 1, False),
    "cvx": (512, 1, False),
    "cumulus_cvx": (512, 1, False),
    "vyosnetworks_vyos": (512, 1, False),
    "linux": (256, 1, False),
    "bridge": (0, 0, False),
    "ovs-bridge": (0, 0, False),
    "host": (0, 0, False),
    "ext-container": (0, 0, False),
}
UNKNOWN_KIND = (1024, 1, False)

# Legacy containerlab aliases for the same kinds.
KIND_ALIASES = {
    "vr-n9kv": "cisco_n9kv", "vr-nxos": "cisco_n9kv", "vr-csr": "cisco_csr1000v",
    "vr-c8000v": "cisco_c8000v", "vr-vmx": "juniper_vmx", "vr-vsrx": "juniper_vsrx",
    "vr-vjunosrouter": "juniper_vjunosrouter", "vr-vjunosswitch": "juniper_vjunosswitch",
    "vr-sros": "nokia_sros", "vr-ftosv": "dell_ftosv", "vr-veos": "arista_veos",
    "vr-xrv9k": "cisco_xrv9k", "vr-pan": "paloalto_panos",
    "juniper_vjunos-evolved": "juniper_vjunosevolved", "vr-vjunosevolved": "juniper_vjunosevolved",
}

# netlab module (feature) -> kernel modules the host must provide.
FEATURE_MODULES = {
    "lag": ("bonding",),
    "mpls": ("mpls_router", "mpls_iptunnel"),
    "vxlan": ("vxlan",),
    "vrf": ("vrf",),
}


def kind_needs(kind):
    """(memory MiB, vCPUs, VM-based, known) for a containerlab kind."""
    name = KIND_ALIASES.get(kind, kind)
    if name in KIND_NEEDS:
        return KIND_NEEDS[name] + (True,)
    if kind and kind.startswith("vr-"):
        return (4096, 2, True, False)
    return UNKNOWN_KIND + (False,)


def derive_needs(lab_nodes, extra_modules=()):
    """The host needs of a lab (a list of lab.source.LabNode)."""
    per_node = []
    modules = {}
    kinds = set()
    vm_kinds = set()
    unknown = set()
    for node in lab_nodes:
        kind = node.kind or "linux"
        memory, cpus, vm, known = kind_needs(kind)
        kinds.add(kind)
        if vm:
            vm_kinds.add(kind)
        if not known:
            unknown.add(kind)
        per_node.append({"name": node.name, "kind": kind, "memory_mb": memory, "cpus": cpus, "vm": vm})
        for feature in node.modules:
            for module in FEATURE_MODULES.get(feature, ()):
                modules.setdefault(module, set()).add("%s on %s" % (feature, node.name))
    for module in extra_modules or ():
        modules.setdefault(module, set()).add("requested")
    return {
        "nodes": per_node,
        "kinds": sorted(kinds),
        "vm_kinds": sorted(vm_kinds),
        "unknown_kinds": sorted(unknown),
        "memory_mb": sum(n["memory_mb"] for n in per_node),
        "cpus": sum(n["cpus"] for n in per_node),
        "max_node_cpus": max([n["cpus"] for n in per_node] or [0]),
        "modules": dict((m, sorted(why)) for m, why in sorted(modules.items())),
    }
