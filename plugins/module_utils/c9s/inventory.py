# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the c9s_lab inventory plugin needs, rendered with the lab so it lives in the cluster
(AWX then needs no local files): netlab's groups and host variables from the lab's
`hosts.yml` and `group_vars/<group>/topology.json`, split in two objects named
contract.inventory_name(<topology>):

- a ConfigMap (component `inventory`, key contract.INVENTORY_KEY) with the groups, each
  node's Kubernetes name and its non-secret variables, plus the lab's provenance
  (netlab's inputs digest from manifest.json);
- a Secret (component `credentials`, key contract.CREDENTIALS_KEY) with the variables that
  hold credentials (passwords, keys), never in the ConfigMap; absent when there are none.

Only scalar host variables and the `ansible_*` group variables are kept: what a playbook
needs to reach a node, and of the `ansible_*` ones only those c9s.inventory_vars allows
(the others are dropped with a warning). `ansible_host` is left out: it becomes the address of the node's
Service when the inventory is read. A lab without hosts.yml (a plain containerlab lab)
gets one group per kind and no variables. Both objects are JSON with sorted keys, so the
render stays byte-identical for identical input.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import re

from ansible_collections.skyforge.labs.plugins.module_utils.c9s.contract import (
    COMPONENT_LABEL, CREDENTIALS_COMPONENT, CREDENTIALS_KEY, INVENTORY_COMPONENT, INVENTORY_KEY,
    inventory_name)
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.inventory_vars import clean, scalar
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.common.yaml_text import load as load_yaml
from ansible_collections.skyforge.labs.plugins.module_utils.lab import clab as clab_utils

SCHEMA = "skyforge.labs/inventory/v1"
HOSTS_FILE = "hosts.yml"
GROUP_VARS = ("group_vars/%s/topology.json", "group_vars/%s/topology.yml")
SECRET_VAR = re.compile(r"pass|secret|token|private_key|_key_", re.I)
REPLACED = frozenset(("ansible_host",))


def _load(lab, relpath, parse):
    if lab.files_at(relpath) is None:
        return None
    try:
        return parse(lab.read(relpath).decode("utf-8"))
    except Exception as exc:
        raise LabError("cannot parse %s in %s (%s): regenerate the lab with netlab" % (relpath, lab.origin, exc),
                       path=relpath)


def _group_vars(lab, group, inline):
    """ansible_* scalars of a group: hosts.yml's `vars`, then group_vars/ (which wins, as in Ansible)."""
    found = dict(inline or {})
    for pattern in GROUP_VARS:
        relpath = pattern % group
        data = _load(lab, relpath, json.loads if relpath.endswith(".json") else load_yaml)
        if isinstance(data, dict):
            found.update(data)
            break
    return dict((k, v) for k, v in found.items() if str(k).startswith("ansible_") and scalar(v))


def _split(variables, where, warn):
    variables, dropped = clean(dict((k, v) for k, v in variables.items() if k not in REPLACED), where)
    for message in dropped:
        warn(message)
    plain, secret = {}, {}
    for key, value in variables.items():
        (secret if SECRET_VAR.search(key) else plain)[key] = value
    return plain, secret


def _netlab_groups(hosts_yml, nodes):
    """{group: (hosts, inline group vars)} and {host: host vars} from netlab's hosts.yml."""
    groups, host_vars = {}, {}
    for group, spec in sorted((hosts_yml or {}).items()):
        spec = spec if isinstance(spec, dict) else {}
        members = spec.get("hosts") if isinstance(spec.get("hosts"), dict) else {}
        names = sorted(str(h) for h in members if str(h) in nodes)
        for host in names:
            extra = members.get(host) or {}
            host_vars.setdefault(host, {}).update(
                (str(k), v) for k, v in extra.items() if scalar(v))
        groups[str(group)] = (names, spec.get("vars") if isinstance(spec.get("vars"), dict) else {})
    return groups, host_vars


def inventory_data(lab, clab, node_map, warn):
    """(inventory dict for the ConfigMap, credentials dict for the Secret or None)."""
    nodes = clab_utils.node_names(clab)
    hosts_yml = _load(lab, HOSTS_FILE, load_yaml)
    if isinstance(hosts_yml, dict):
        groups, host_vars = _netlab_groups(hosts_yml, set(nodes))
    else:
        groups, host_vars = {}, {}
        for node in nodes:
            kind = clab_utils.node_kind(clab, node) or "unknown"
            groups.setdefault(str(kind), ([], {}))[0].append(node)
    inventory = {"schema": SCHEMA, "nodes": {}, "groups": {}}
    credentials = {"nodes": {}, "groups": {}}
    for group, (members, inline) in sorted(groups.items()):
        plain, secret = _split(_group_vars(lab, group, inline) if hosts_yml else {}, "group %s" % group, warn)
        inventory["groups"][group] = {"hosts": sorted(members), "vars": plain}
        if secret:
            credentials["groups"][group] = secret
    for node in sorted(nodes):
        plain, secret = _split(host_vars.get(node, {}), "node %s" % node, warn)
        inventory["nodes"][node] = {"node": node_map.get(node, node), "vars": plain}
        if secret:
            credentials["nodes"][node] = secret
    manifest = _load(lab, "manifest.json", json.loads)
    if isinstance(manifest, dict) and manifest.get("inputs_sha256"):
        inventory["inputs_sha256"] = str(manifest["inputs_sha256"])
        inventory["netlab_version"] = str(manifest.get("netlab_version") or "")
    has_secret = credentials["nodes"] or credentials["groups"]
    return inventory, (credentials if has_secret else None)


def _text(data):
    return json.dumps(data, sort_keys=True, indent=1, separators=(",", ": ")) + "\n"


def objects(lab, clab, node_map, topo_name, namespace, labels, warn):
    """[ConfigMap, Secret?]: the lab's inventory objects, labelled like the rest of the lab;
    warn(message) for each variable left out."""
    inventory, credentials = inventory_data(lab, clab, node_map, warn)
    name = inventory_name(topo_name)
    meta = {"name": name, "namespace": namespace}
    out = [{"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": dict(meta, labels=dict(labels, **{COMPONENT_LABEL: INVENTORY_COMPONENT})),
            "data": {INVENTORY_KEY: _text(inventory)}}]
    if credentials is not None:
        encoded = base64.b64encode(_text(credentials).encode("utf-8")).decode("ascii")
        out.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                    "metadata": dict(meta, labels=dict(labels, **{COMPONENT_LABEL: CREDENTIALS_COMPONENT})),
                    "data": {CREDENTIALS_KEY: encoded}})
    return out
