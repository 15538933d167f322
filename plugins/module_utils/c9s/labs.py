# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The labs this collection deployed, as the cluster sees them (lab_info, the c9s_lab
inventory, playbooks/lab_status.yml).

A lab is a Topology labelled contract.managed_selector(): one deployed by anything else is
never listed. Per node: kind and image from the definition, the launcher Deployment and the
exposing Service the controller made (labels contract.owner_label / node_label, Service
type label `<prefix>/topologyServiceType` other than `fabric`), and readiness as the
controller reports it (v0.6: status.nodeReadiness; c9s.run: the Node object's
status.readiness), with the launcher's state as the reason when not ready.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json

from ansible_collections.skyforge.labs.plugins.module_utils.c9s import apply
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.contract import (
    C9S_RUN, INVENTORY_KEY, LAB_LABEL, SOURCE_DIGEST, managed_selector, node_label, owner_label, owner_selector,
    resource_of, inventory_name, cm_path, topology_path)
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.wait import _rollout_pending, evaluate
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.common.yaml_text import load as load_yaml
from ansible_collections.skyforge.labs.plugins.module_utils.k8s.client import ApiException, translate
from ansible_collections.skyforge.labs.plugins.module_utils.lab import clab as clab_utils

ALL_NAMESPACES_HINT = ("listing labs in all namespaces needs 'list' on topologies cluster-wide; set "
                       "namespaces to the ones you may read")


def _age(created, now):
    try:
        then = datetime.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError):
        return None
    return max(0, int((now - then).total_seconds()))


def _definition(topology):
    text = ((topology.get("spec") or {}).get("definition") or {}).get("containerlab") or ""
    try:
        clab = load_yaml(text) or {}
    except Exception:  # the controller reports definition errors; here it only costs detail
        return {}
    return clab if isinstance(clab, dict) else {}


def _node_settings(clab, node):
    kind = image = None
    for _level, settings in clab_utils.node_levels(clab, node):
        kind = settings.get("kind") or kind
        image = settings.get("image") or image
    return kind, image


def _by_node(items, api_version):
    label = node_label(api_version)
    out = {}
    for item in items:
        node = (item["metadata"].get("labels") or {}).get(label)
        if node is not None:
            out.setdefault(node, []).append(item)
    return out


def _list_owned(api, path, resource, namespace, topology, api_version, kind):
    return api.list(path, resource, owner_selector(topology, api_version), namespace=namespace, kind=kind)


def _service_info(service):
    if service is None:
        return None
    spec, status = service.get("spec") or {}, service.get("status") or {}
    ingress = (status.get("loadBalancer") or {}).get("ingress") or []
    return {"name": service["metadata"]["name"], "type": spec.get("type"),
            "cluster_ip": spec.get("clusterIP"),
            "dns": "%s.%s.svc" % (service["metadata"]["name"], service["metadata"]["namespace"]),
            "load_balancer": [i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")],
            "ports": [{"name": p.get("name"), "port": p.get("port"), "protocol": p.get("protocol")}
                      for p in spec.get("ports") or []]}


def _exposing(services, api_version):
    type_label = "%s/topologyServiceType" % owner_label(api_version).split("/")[0]
    for service in sorted(services, key=lambda s: s["metadata"]["name"]):
        if (service["metadata"].get("labels") or {}).get(type_label) != "fabric":
            return service
    return None


def _readiness(api, api_version, namespace, name, status, nodes):
    """{node: controller's word} (v0.6 nodeReadiness; c9s.run Node status.readiness)."""
    if api_version != C9S_RUN:
        return dict((status.get("nodeReadiness") or {}))
    items = _list_owned(api, "/apis/c9s.run/v1alpha1/namespaces/%s/nodes" % namespace, "nodes.c9s.run",
                        namespace, name, api_version, "Node")
    return dict((n["metadata"]["name"], (n.get("status") or {}).get("readiness") or "unknown") for n in items
                if n["metadata"]["name"] in nodes)


def _inventory(api, namespace, name):
    """The lab's inventory data (c9s.inventory) or None when it has none (rendered before it existed)."""
    cm = api.get_or_none(cm_path(namespace, inventory_name(name)), "configmaps", name=inventory_name(name),
                         namespace=namespace, kind="ConfigMap")
    if cm is None:
        return None
    try:
        return json.loads((cm.get("data") or {}).get(INVENTORY_KEY) or "{}")
    except ValueError:
        raise LabError("ConfigMap %s in namespace %s does not hold valid JSON under %s; re-deploy lab %s"
                       % (inventory_name(name), namespace, INVENTORY_KEY, name))


def describe(api, api_version, topology, now=None):
    """One lab: what lab_info returns for it."""
    meta = topology["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    clab = _definition(topology)
    nodes = sorted(clab_utils.node_names(clab)) if clab else []
    status = topology.get("status") or {}
    info = evaluate(topology, api_version, nodes)
    deployments = _by_node(_list_owned(api, "/apis/apps/v1/namespaces/%s/deployments" % namespace,
                                       "deployments.apps", namespace, name, api_version, "Deployment"), api_version)
    services = _by_node(_list_owned(api, "/api/v1/namespaces/%s/services" % namespace, "services",
                                    namespace, name, api_version, "Service"), api_version)
    readiness = _readiness(api, api_version, namespace, name, status, set(nodes))
    inventory = _inventory(api, namespace, name) or {}
    lab = {"name": name, "namespace": namespace, "api_version": api_version,
           "created": meta.get("creationTimestamp"),
           "age_seconds": _age(meta.get("creationTimestamp"), now or datetime.datetime.utcnow()),
           "applied_sha256": (meta.get("annotations") or {}).get(apply.APPLIED_DIGEST),
           "bundle_sha256": (meta.get("annotations") or {}).get(SOURCE_DIGEST),
           "inputs_sha256": inventory.get("inputs_sha256"), "netlab_version": inventory.get("netlab_version"),
           "ready": info["ready"], "ready_nodes": 0, "total_nodes": len(nodes),
           "error": info["error"], "nodes": []}
    for node in nodes:
        kind, image = _node_settings(clab, node)
        launcher = (deployments.get(node) or [None])[0]
        word = readiness.get(node, "unknown")
        ready = word == "ready"
        reason = None
        if not ready:
            pending = _rollout_pending(launcher) if launcher else "no launcher Deployment yet"
            reason = "controller reports %s%s" % (word, "; launcher: %s" % pending if pending else "")
        lab["ready_nodes"] += ready
        lab["nodes"].append({"name": node, "kind": kind, "image": image,
                             "launcher": launcher["metadata"]["name"] if launcher else None,
                             "ready": ready, "reason": reason,
                             "service": _service_info(_exposing(services.get(node, []), api_version))})
    return lab


def _served(api):
    served = apply.served_topology_apis(api)
    if not served:
        raise LabError("the cluster at %s serves no Clabernetes Topology API (neither c9s.run/v1alpha1 nor "
                       "clabernetes.containerlab.dev/v1alpha1): install Clabernetes" % api.host)
    return served


def topologies(api, namespaces=None, name=None):
    """[(api_version, Topology)] of our labs, sorted by namespace and name. namespaces empty:
    every namespace (a cluster-wide list)."""
    selector = managed_selector() + (",%s=%s" % (LAB_LABEL, name) if name else "")
    found = []
    for api_version in _served(api):
        resource = resource_of("Topology", api_version)
        for namespace in namespaces or [None]:
            try:
                items = api.request("GET", topology_path(api_version, namespace),
                                    query=[("labelSelector", selector)]).get("items") or []
            except ApiException as exc:
                error = translate(exc, "list", resource, namespace=namespace, host=api.host, kind="Topology")
                if exc.status == 403 and namespace is None:
                    raise LabError("%s (%s)" % (error.message, ALL_NAMESPACES_HINT), status=403)
                raise error
            found.extend((api_version, item) for item in items)
    return sorted(found, key=lambda pair: (pair[1]["metadata"]["namespace"], pair[1]["metadata"]["name"]))


def list_labs(api, namespaces=None, name=None):
    """lab_info's `labs`: describe() of every lab found."""
    now = datetime.datetime.utcnow()
    return [describe(api, api_version, topology, now) for api_version, topology in topologies(api, namespaces, name)]
