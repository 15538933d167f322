# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Known Clabernetes pitfalls a render can see in a lab, reported as plan warnings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible_collections.skyforge.labs.plugins.module_utils.c9s import advice
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.contract import C9S_RUN, V06
from ansible_collections.skyforge.labs.plugins.module_utils.common import names
from ansible_collections.skyforge.labs.plugins.module_utils.lab import clab as clab_utils


def short_list(items, limit=10):
    """Up to `limit` sorted items, and how many more."""
    items = sorted(items)
    text = ", ".join(items[:limit])
    return text + (" and %d more" % (len(items) - limit) if len(items) > limit else "")


def runtime_paths_warning(sources):
    """Files under containerlab's runtime directories, which a render cannot ship."""
    return (
        "paths in containerlab's runtime directories are not mounted from the lab: %s. "
        "__clabDir__ and __clabNodeDir__ name directories containerlab creates when it deploys (in "
        "the launcher pod, empty), so these files will not exist there unless the node writes them "
        "itself; to ship a lab file, reference it relative to the topology instead (clabverter "
        "reads __clabDir__ as the topology's directory, containerlab does not)" % short_list(sources))


def warn_nodes(lab, clab, plan, wanted, api_version):
    """Bridge nodes on c9s.run; linux nodes whose netlab scripts the topology does not mount."""
    bridges = []
    ns_scripts = []
    unmounted = {}
    for node in clab_utils.node_names(clab):
        kind = clab_utils.node_kind(clab, node)
        if kind == "bridge":
            bridges.append(node)
        if kind == "linux":
            used = set(path for path, _mode, _ref in wanted.get(node, ()))
            directory = posixpath.join("node_files", node)
            prefix = posixpath.join(directory, "")     # posixpath.join(directory, name) for a listed name
            unused = [name for name in lab.listdir(directory) if prefix + name not in used]
            if unused:
                ns_scripts.append("%s (%s)" % (node, ", ".join(unused)))
                unmounted[node] = unused
    if bridges and api_version == C9S_RUN:
        plan.warnings.append(
            "bridge nodes %s: Clabernetes v0.8 (c9s.run) rejects kind 'bridge' (netlab uses it for "
            "multi-access LANs); use api_version clabernetes.containerlab.dev/v1alpha1 (v0.6) or "
            "make the LANs point-to-point" % short_list(bridges))
    if ns_scripts:
        plan.warnings.append(
            "linux nodes with netlab configuration scripts the topology does not mount: %s. netlab "
            "runs them on the host with 'ip netns exec' (config mode 'ns'), which cannot work in "
            "Clabernetes launcher pods, so these nodes come up unconfigured; %s"
            % (short_list(ns_scripts), advice.ns_scripts_advice(lab, unmounted)))


def warn_definition(clab, plan, api_version, topo_name, naming, node_map):
    """What Clabernetes v0.6 drops from a definition; naming pitfalls (c9s.run ignores
    'prefixed'; Service names over 63 characters)."""
    topo = clab["topology"]
    if api_version == V06:
        grouped = [node for node in clab_utils.node_names(clab)
                   if any(level == "groups" and settings
                          for level, settings in clab_utils.node_levels(clab, node))]
        if grouped:
            plan.warnings.append(
                "nodes %s take settings from topology.groups, which Clabernetes v0.6 leaves out of "
                "each node's launcher topology (only defaults, the node's kind and the node are "
                "kept); move those settings to kinds or the nodes" % short_list(grouped))
        extended = [str(index) for index, link in enumerate(topo.get("links") or [])
                    if not (isinstance(link, dict) and all(isinstance(ep, str) for ep in link.get("endpoints") or [None]))]
        if extended:
            plan.warnings.append(
                "links %s use the extended link format; Clabernetes v0.6 only parses "
                "'endpoints: [\"node:iface\", \"node:iface\"]' and will not deploy them; rewrite them in that form"
                % ", ".join(extended[:10]))
    if api_version == C9S_RUN and naming == "prefixed":
        plan.warnings.append(
            "naming 'prefixed' has no effect with c9s.run (Clabernetes v0.7+): Nodes, launcher "
            "Deployments and Services are named after the node alone (%s), so no other lab in "
            "namespace %s may have nodes of the same names (c9s_apply refuses such a lab)"
            % (short_list(sorted(node_map.values())), plan.namespace))
    elif naming in ("prefixed", "global"):
        too_long = [node for node in node_map.values()
                    if len(topo_name) + len(node) + len("--vx") > names.LABEL_MAX]
        if too_long:
            plan.warnings.append(
                "with %s naming Clabernetes names Services '<topology>-<node>-vx', which must stay "
                "within 63 characters; too long for nodes %s: shorten the lab or node names or use "
                "naming non-prefixed" % (naming, short_list(too_long)))
