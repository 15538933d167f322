# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Clabernetes controller creates for a Topology, found by its owner label.

- v0.6 (clabernetes.containerlab.dev): per node a Deployment and Services, per Topology a
  ConfigMap and a Connectivity; owner label `clabernetes/topologyOwner=<topology>`
  (contract.owner_label).
- v0.7+ (c9s.run): the Topology compiles into a LauncherProfile, one Node per node and one Link
  per wire (all owned by the Topology), and each Node into a Deployment and Services (owned by
  the Node); owner label `c9s.run/topologyOwner=<topology>`. Node and Link objects are named after
  the containerlab node (and interfaces), and so are the Deployments: `spec.naming` is ignored,
  so two labs with a node of the same name cannot share a namespace (node_collisions).

None of it is deleted by the controller: it sets ownerReferences and leaves the clean-up to the
Kubernetes garbage collector (kube-controller-manager), which removes the v0.8 chain in two
steps (Topology -> Node -> Deployment). wait_collected() waits for that after a Topology was
deleted, so `state: absent` ends with nothing of the lab left, or says what stayed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.skyforge.labs.plugins.module_utils.c9s.contract import C9S_RUN, V06, owner_label, owner_selector
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.k8s.client import ApiException, translate
from ansible_collections.skyforge.labs.plugins.module_utils.k8s.waiter import wait_for

# (kind, collection path under /api or /apis without the namespace part)
_CORE = [("Deployment", "/apis/apps/v1/namespaces/%s/deployments"),
         ("Service", "/api/v1/namespaces/%s/services"),
         ("ConfigMap", "/api/v1/namespaces/%s/configmaps"),
         ("PersistentVolumeClaim", "/api/v1/namespaces/%s/persistentvolumeclaims")]
DEPENDENTS = {
    C9S_RUN: [("Node", "/apis/c9s.run/v1alpha1/namespaces/%s/nodes"),
              ("Link", "/apis/c9s.run/v1alpha1/namespaces/%s/links"),
              ("LauncherProfile", "/apis/c9s.run/v1alpha1/namespaces/%s/launcherprofiles")] + _CORE,
    V06: [
        ("Connectivity", "/apis/clabernetes.containerlab.dev/v1alpha1/namespaces/%s/connectivities")] + _CORE,
}


def _list(api, path, selector=None):
    """Items, or None when this API is not served (404) or this user may not list it (403)."""
    try:
        return api.request("GET", path, query=[("labelSelector", selector)] if selector else None).get("items") or []
    except ApiException as exc:
        if exc.status in (403, 404):
            return None
        raise translate(exc, "list", path.rsplit("/", 1)[-1], host=api.host)


def dependents(api, api_version, namespace, name):
    """[(kind, name)] of what the controller made for Topology `name` that still exists, plus
    the kinds that could not be listed (403/404) -> (found, unchecked)."""
    found, unchecked = [], []
    selector = owner_selector(name, api_version)
    for kind, path in DEPENDENTS[api_version]:
        items = _list(api, path % namespace, selector)
        if items is None:
            unchecked.append(kind)
            continue
        found.extend((kind, item["metadata"]["name"]) for item in items)
    return sorted(found), unchecked


def wait_collected(api, api_version, namespace, name, timeout, dry_run=False, before=()):
    """After Topology `name` is gone: wait until the garbage collector removed what the
    controller made for it (`before`: what was listed before the Topology was deleted).
    -> [{"kind", "name", "action": "deleted", "by": "garbage collector"}]
    LabError naming what is left when it takes longer than timeout seconds."""
    left, _unchecked = dependents(api, api_version, namespace, name)
    first = sorted(set(before) | set(left))

    def collected():
        remaining = dependents(api, api_version, namespace, name)[0]
        return not remaining, remaining

    def timed_out(remaining):
        return LabError(
            "after deleting Topology %s, what the Clabernetes controller made for it is still in "
            "namespace %s after %ds: %s. These carry ownerReferences to the Topology and only the "
            "Kubernetes garbage collector (kube-controller-manager) deletes them: is it running? "
            "Delete them by hand with the label %s" % (
                name, namespace, timeout, ", ".join("%s/%s" % item for item in remaining),
                owner_selector(name, api_version)))
    if left and not dry_run:
        wait_for(collected, timeout, timed_out, interval=0.5)
    return [{"kind": kind, "name": obj, "action": "deleted", "by": "garbage collector",
             "api_version": api_version} for kind, obj in first]


def node_collisions(api, namespace, lab, nodes):
    """c9s.run only: nodes of this lab whose name a Node of another Topology (or a directly
    authored Node) in the namespace already holds -> [(node, owner or None)], or None when
    Nodes cannot be listed here."""
    items = _list(api, "/apis/c9s.run/v1alpha1/namespaces/%s/nodes" % namespace)
    if items is None:
        return None
    label = owner_label(C9S_RUN)
    wanted = set(nodes)
    out = []
    for item in items:
        meta = item["metadata"]
        owner = (meta.get("labels") or {}).get(label)
        if meta["name"] in wanted and owner != lab:
            out.append((meta["name"], owner))
    return sorted(out, key=lambda pair: pair[0])


def check_node_names(api, namespace, lab, nodes):
    """Refuse a c9s.run lab whose node names another lab in the namespace already uses: the
    controller would fail to create those Nodes (and keep retrying) and the lab would never
    become ready, with the reason only in its log. -> None when it could not check (403)."""
    collisions = node_collisions(api, namespace, lab, nodes)
    if collisions:
        raise LabError(
            "namespace %s already has Clabernetes Nodes named %s (%s). With c9s.run (Clabernetes "
            "v0.7+) spec.naming is ignored and Nodes and launcher Deployments are named after the "
            "containerlab node alone, so node names must be unique in a namespace: deploy lab %s "
            "into another namespace or rename its nodes" % (
                namespace, ", ".join(n for n, _o in collisions),
                "; ".join("%s belongs to %s" % (n, "Topology %s" % o if o else "no Topology")
                          for n, o in collisions), lab), namespace=namespace)
    return collisions
