# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The c9s_lab inventory's data, without Ansible: the hosts and groups of the labs found by
c9s.labs, with the variables netlab gave them (c9s.inventory: the ConfigMap, and the Secret
for credentials) and ansible_host set to the address of the node's Service.

Those objects can be changed by anyone who may write to the namespace, so what they say is
checked again here: only nodes of the Topology become hosts, and only the variables
c9s.inventory_vars allows are set (the rest is dropped with a warning).

-> {"hosts": {host: vars}, "groups": {group: {"hosts": [...], "vars": {...}}}, "warnings": [...]}
(plain JSON: it is what the inventory cache stores).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import re

from ansible_collections.skyforge.labs.plugins.module_utils.c9s.contract import (
    CREDENTIALS_KEY, INVENTORY_KEY, cm_path, inventory_name, secret_path)
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.inventory_vars import clean
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.labs import describe, topologies
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError

ADDRESSES = ("service_ip", "service_dns", "load_balancer")
_GROUP_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def _address(service, address):
    if service is None:
        return None
    if address == "service_ip":
        return service["cluster_ip"] if service["cluster_ip"] not in (None, "", "None") else None
    if address == "service_dns":
        return service["dns"]
    return (service["load_balancer"] or [None])[0]


def _read_json(api, path, kind, name, namespace, key, encoded=False):
    obj = api.get_or_none(path, "secrets" if kind == "Secret" else "configmaps", name=name,
                          namespace=namespace, kind=kind)
    if obj is None:
        return None
    text = (obj.get("data") or {}).get(key)
    if text is None:
        return None
    try:
        return json.loads(base64.b64decode(text).decode("utf-8") if encoded else text)
    except (ValueError, TypeError):
        raise LabError("%s %s in namespace %s does not hold valid JSON under %s; re-deploy the lab"
                       % (kind, name, namespace, key))


def group_name(text):
    return _GROUP_UNSAFE.sub("_", text)


def _add_group(groups, name, host=None, variables=None):
    group = groups.setdefault(name, {"hosts": [], "vars": {}})
    if host is not None and host not in group["hosts"]:
        group["hosts"].append(host)
    if variables:
        for key, value in variables.items():
            if group["vars"].setdefault(key, value) != value:
                raise LabError("group %s gets %s=%r from one lab and %r from another; list those labs in "
                               "separate inventory sources" % (name, key, group["vars"][key], value))


def _dict(value):
    return value if isinstance(value, dict) else {}


def _vars(out, where, *sources):
    """The allowed variables of sources merged in order; what is dropped becomes a warning."""
    merged = {}
    for source in sources:
        merged.update(_dict(source))
    kept, dropped = clean(merged, where)
    out["warnings"].extend(dropped)
    return kept


def lab_hosts(api, namespaces=None, labs=None, address="service_ip", prefix_lab=False):
    if address not in ADDRESSES:
        raise LabError("address %r is not one of %s" % (address, ", ".join(ADDRESSES)))
    found = topologies(api, namespaces)
    if labs:
        found = [(v, t) for v, t in found if t["metadata"]["name"] in set(labs)]
    out = {"hosts": {}, "groups": {}, "warnings": []}
    owner = {}
    for api_version, topology in found:
        lab = describe(api, api_version, topology)
        name, namespace = lab["name"], lab["namespace"]
        inv_name = inventory_name(name)
        data = _dict(_read_json(api, cm_path(namespace, inv_name), "ConfigMap", inv_name, namespace,
                                INVENTORY_KEY))
        creds = _dict(_read_json(api, secret_path(namespace, inv_name), "Secret", inv_name, namespace,
                                 CREDENTIALS_KEY, encoded=True))
        if not data:
            out["warnings"].append("lab %s in namespace %s has no inventory ConfigMap %s (deployed by an older "
                                   "skyforge.labs?): its nodes are listed without netlab's variables; "
                                   "re-deploy it" % (name, namespace, inv_name))
        services = dict((n["name"], n) for n in lab["nodes"])
        nodes = _dict(data.get("nodes")) or dict((n, {"node": n, "vars": {}}) for n in services)
        where = "lab %s/%s" % (namespace, name)
        lab_group = group_name("lab_%s" % name)
        hostnames = {}
        for node, entry in sorted(nodes.items()):
            entry = _dict(entry)
            k8s_node = entry.get("node") or node
            if k8s_node not in services:
                out["warnings"].append("%s: the inventory names node %r, which the Topology does not have; "
                                       "it is left out (re-deploy the lab to rewrite its inventory)"
                                       % (where, str(k8s_node)[:80]))
                continue
            host = "%s_%s" % (name, node) if prefix_lab else node
            if host in owner:
                raise LabError("host %s is in lab %s and in lab %s; set prefix_lab: true, or limit the "
                               "inventory with labs/namespaces" % (host, owner[host], "%s/%s" % (namespace, name)))
            owner[host] = "%s/%s" % (namespace, name)
            hostnames[node] = host
            info = services[k8s_node]
            hostvars = _vars(out, "%s node %s" % (where, node), entry.get("vars"),
                             _dict(creds.get("nodes")).get(node))
            hostvars.update(c9s_lab=name, c9s_namespace=namespace, c9s_node=k8s_node,
                            c9s_ready=bool(info.get("ready")), c9s_api_version=api_version)
            target = _address(info.get("service"), address)
            if target:
                hostvars["ansible_host"] = target
            else:
                out["warnings"].append("node %s of lab %s/%s has no %s address yet (Service %s): no ansible_host"
                                       % (node, namespace, name, address,
                                          (info.get("service") or {}).get("name", "missing")))
            out["hosts"][host] = hostvars
            _add_group(out["groups"], lab_group, host)
        for group, spec in sorted(_dict(data.get("groups")).items()):
            spec = _dict(spec)
            variables = _vars(out, "%s group %s" % (where, group), spec.get("vars"),
                              _dict(creds.get("groups")).get(group))
            members = [hostnames[h] for h in spec.get("hosts") or [] if h in hostnames]
            _add_group(out["groups"], group_name(group), None, variables)
            for host in members:
                _add_group(out["groups"], group_name(group), host)
    return out
