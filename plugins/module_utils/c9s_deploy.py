# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Put a rendered lab into a cluster and take it out again.

apply(): server-side apply of the ConfigMaps, then the Topology (never status), then prune
what carries this lab's labels but is no longer rendered. Objects whose applied fields
already hold the desired values are not sent at all (one LIST finds them), which makes a
no-op re-apply cheap; whatever is sent is judged created/updated/unchanged by comparing
what we own before and after (see owned_state), never resourceVersion or generation: the
Clabernetes controller rewrites the whole Topology (no status subresource), so its status
writes move both, and one landing between our read and our apply is not a change of ours.
Check mode sends the same requests with dryRun=All.
remove(): delete the Topology, then the lab's ConfigMaps, and wait until they are gone, and
until the garbage collector removed what the controller made for the Topology (c9s_owned).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.skyforge.labs.plugins.module_utils.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.k8s import (
    APPLY_PATCH, ApiException, translate)
from ansible_collections.skyforge.labs.plugins.module_utils.c9s_manifests import (
    TOPOLOGY_GROUPS, lab_selector)
from ansible_collections.skyforge.labs.plugins.module_utils import c9s_owned

PRIVILEGED = {"pod-security.kubernetes.io/enforce": "privileged"}
APPLIED_DIGEST = "skyforge.labs/applied-sha256"
WORKERS = 8


def cm_path(namespace, name=None):
    return "/api/v1/namespaces/%s/configmaps%s" % (namespace, "/" + name if name else "")


def topology_path(api_version, namespace, name=None):
    group, version = TOPOLOGY_GROUPS[api_version]
    return "/apis/%s/%s/namespaces/%s/topologies%s" % (group, version, namespace, "/" + name if name else "")


def resource_of(kind, api_version):
    return "configmaps" if kind == "ConfigMap" else "topologies.%s" % TOPOLOGY_GROUPS[api_version][0]


def call(api, method, path, verb, kind, name=None, namespace=None, api_version="v1", **kwargs):
    try:
        return api.request(method, path, **kwargs)
    except ApiException as exc:
        raise translate(exc, verb, resource_of(kind, api_version) if kind != "Namespace" else "namespaces",
                        name=name, namespace=namespace, host=api.host, kind=kind)


# -- discovery -------------------------------------------------------------------------------


def served_topology_apis(api):
    """The Topology apiVersions this cluster serves, from API discovery."""
    served = []
    for api_version in sorted(TOPOLOGY_GROUPS):
        group, version = TOPOLOGY_GROUPS[api_version]
        try:
            resources = api.request("GET", "/apis/%s/%s" % (group, version)).get("resources") or []
        except ApiException as exc:
            if exc.status == 404:
                continue
            raise translate(exc, "get", "apis/%s/%s (discovery)" % (group, version), host=api.host)
        if any(r.get("name") == "topologies" for r in resources):
            served.append(api_version)
    return served


def resolve_api_version(api, requested, rendered):
    """Which Topology apiVersion to use: requested (or 'auto' -> rendered one if served)."""
    served = served_topology_apis(api)
    if requested and requested != "auto":
        if requested not in served:
            raise LabError(
                "the cluster at %s does not serve Topology %s (it serves: %s); install that "
                "Clabernetes version or set api_version to one it serves"
                % (api.host, requested, ", ".join(served) or "neither"))
        return requested
    if not served:
        raise LabError(
            "the cluster at %s serves no Clabernetes Topology API: neither c9s.run/v1alpha1 "
            "(Clabernetes v0.7+) nor clabernetes.containerlab.dev/v1alpha1 (v0.6) is installed. "
            "Install Clabernetes (its CRDs) first" % api.host)
    return rendered if rendered in served else served[0]


# -- namespace -------------------------------------------------------------------------------


def ensure_namespace(api, namespace, field_manager, dry_run):
    """Create the namespace (or add the Pod Security label). Returns the action."""
    try:
        current = api.request("GET", "/api/v1/namespaces/%s" % namespace)
    except ApiException as exc:
        if exc.status != 404:
            raise translate(exc, "get", "namespaces", name=namespace, host=api.host, kind="Namespace")
        current = None
    labels = ((current or {}).get("metadata") or {}).get("labels") or {}
    if current and all(labels.get(k) == v for k, v in PRIVILEGED.items()):
        return "unchanged"
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": dict(PRIVILEGED)}}
    query = [("fieldManager", field_manager)] + ([("dryRun", "All")] if dry_run else [])
    call(api, "PATCH", "/api/v1/namespaces/%s" % namespace, "patch", "Namespace", name=namespace,
         body=body, query=query, content_type=APPLY_PATCH)
    return "created" if current is None else "updated"


# -- apply -----------------------------------------------------------------------------------


def list_configmaps(api, namespace, lab):
    """{name: ConfigMap} of the lab's labelled ConfigMaps (404-free: empty when no namespace)."""
    items = call(api, "GET", cm_path(namespace), "list", "ConfigMap", namespace=namespace,
                 query=[("labelSelector", lab_selector(lab))]).get("items") or []
    return {item["metadata"]["name"]: item for item in items}


def _owned_by(obj, field_manager):
    return any(m.get("manager") == field_manager and m.get("operation") == "Apply"
               for m in (obj.get("metadata") or {}).get("managedFields") or [])


def _subset(desired, current):
    return all(current.get(k) == v for k, v in (desired or {}).items())


def configmap_in_sync(desired, current, field_manager):
    """True when applying desired would change nothing we care about."""
    if current is None or not _owned_by(current, field_manager):
        return False
    dm, cm = desired["metadata"], current["metadata"]
    return ((desired.get("data") or {}) == (current.get("data") or {})
            and (desired.get("binaryData") or {}) == (current.get("binaryData") or {})
            and desired.get("immutable", current.get("immutable")) == current.get("immutable")
            and _subset(dm.get("labels"), cm.get("labels") or {})
            and _subset(dm.get("annotations"), cm.get("annotations") or {}))


def stamp_topology(topology, api_version):
    """The Topology to send: served apiVersion, plus a digest of what we apply.

    The digest lets a re-apply skip sending a large, unchanged Topology (see topology_in_sync).
    """
    topology = copy.deepcopy(topology)
    topology["apiVersion"] = api_version
    annotations = topology["metadata"].setdefault("annotations", {})
    annotations.pop(APPLIED_DIGEST, None)
    digest = hashlib.sha256(json.dumps(topology, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    annotations[APPLIED_DIGEST] = digest.hexdigest()
    return topology


def topology_in_sync(desired, current, field_manager):
    """True when the live Topology holds what we apply, through our own Apply.

    Only what we send counts: the controller's Update owns defaulted spec fields we never
    send (deployment.containerlabTimeout, persistence, scheduling, expose.*, ...) and they do
    not make the Topology out of sync. Our digest annotation is part of what we send, so a
    field dropped from the render (which a value-by-value look cannot see) differs too.
    """
    if current is None or not _owned_by(current, field_manager):
        return False
    shape = _owned_shape(desired)
    return project(shape, current) == shape


_MISSING = "\0(missing)"


def project(desired, live):
    """live seen through the shape of desired: its values at the places desired sets."""
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return _MISSING if live is None else live
        return {key: project(value, live.get(key)) for key, value in desired.items()}
    if isinstance(desired, list) and isinstance(live, list) and len(desired) == len(live):
        return [project(d, item) for d, item in zip(desired, live)]
    return _MISSING if live is None else live


def _owned_shape(desired, keys=None):
    """The part of an apply document we own: all but apiVersion/kind/status, and of the
    metadata only labels and annotations (name/namespace identify, they do not change)."""
    shape = {k: v for k, v in desired.items() if k not in ("apiVersion", "kind", "metadata", "status")}
    meta = desired.get("metadata") or {}
    shape["metadata"] = {k: meta[k] for k in ("labels", "annotations") if k in meta}
    if keys is not None:
        shape = {k: v for k, v in shape.items() if k in keys}
    return shape


def _applied_fields(obj, field_manager, keys=None):
    """The field set our Apply owns (managedFields fieldsV1), optionally of some top-level keys."""
    for entry in (obj.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") == field_manager and entry.get("operation") == "Apply" \
                and not entry.get("subresource"):
            fields = entry.get("fieldsV1") or {}
            if keys is not None:
                fields = {k: v for k, v in fields.items() if k[2:] in keys}
            return fields
    return None


def owned_state(desired, obj, field_manager, keys=None):
    """What of obj is ours: its values where desired sets them, and the fields our Apply owns
    (which also moves when the render stops setting a field). keys: only these top-level keys
    (e.g. ("spec",)). Writes by other managers to other fields (the controller's status and
    defaults) leave it as it is."""
    if obj is None:
        return None
    return project(_owned_shape(desired, keys), obj), _applied_fields(obj, field_manager, keys)


def _action(desired, before, after, field_manager):
    if before is None:
        return "created"
    same = owned_state(desired, before, field_manager) == owned_state(desired, after, field_manager)
    return "unchanged" if same else "updated"


def view(obj):
    """The part of an object we manage, for --diff."""
    if obj is None:
        return {}
    meta = obj.get("metadata") or {}
    out = {"metadata": {k: meta[k] for k in ("name", "namespace", "labels", "annotations") if meta.get(k)}}
    for key in ("data", "binaryData", "immutable", "spec"):
        if key in obj:
            out[key] = obj[key]
    return out


class Applier:
    """One apply run: holds the connection, options and what it found and did."""

    def __init__(self, api, lab, api_version, field_manager, force=False, dry_run=False):
        self.api = api
        self.lab = lab
        self.api_version = api_version
        self.field_manager = field_manager
        self.force = force
        self.dry_run = dry_run
        self.objects = []
        self.diffs = []
        self.topology_before = None
        self.topology_after = None
        self.topology_spec_changed = False

    def _query(self):
        # Strict: an unknown (e.g. misspelt) field is an error, not silently dropped
        query = [("fieldManager", self.field_manager), ("fieldValidation", "Strict")]
        if self.force:
            query.append(("force", "true"))
        if self.dry_run:
            query.append(("dryRun", "All"))
        return query

    def _apply(self, obj, path, before):
        kind, name = obj["kind"], obj["metadata"]["name"]
        after = call(self.api, "PATCH", path, "patch", kind, name=name, namespace=self.lab.namespace,
                     api_version=self.api_version, body=obj, query=self._query(), content_type=APPLY_PATCH)
        action = _action(obj, before, after, self.field_manager)
        if action != "unchanged":
            self.diffs.append({"before_header": "%s/%s" % (kind, name), "after_header": "%s/%s" % (kind, name),
                               "before": view(before), "after": view(after)})
        return after, action

    def _list(self, path):
        items = call(self.api, "GET", path, "list", "ConfigMap" if "configmaps" in path else "Topology",
                     namespace=self.lab.namespace, api_version=self.api_version,
                     query=[("labelSelector", self.lab.selector())]).get("items") or []
        return {item["metadata"]["name"]: item for item in items}

    def _get_topology(self):
        try:
            return self.api.request("GET", topology_path(self.api_version, self.lab.namespace, self.lab.name))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise translate(exc, "get", resource_of("Topology", self.api_version), name=self.lab.name,
                            namespace=self.lab.namespace, host=self.api.host, kind="Topology")

    def run(self, prune=True, namespace_missing=False, existing_cms=None):
        ns = self.lab.namespace
        if namespace_missing:
            # dry run into a namespace that does not exist yet: the server would reject every
            # request with 404, so report what the real run would create
            for obj in self.lab.configmaps + [self.lab.topology]:
                self.objects.append({"kind": obj["kind"], "name": obj["metadata"]["name"], "action": "created"})
                self.diffs.append({"before_header": "(absent)", "after_header": "%s/%s" % (
                    obj["kind"], obj["metadata"]["name"]), "before": {}, "after": view(obj)})
            return self
        if existing_cms is None:
            existing_cms = list_configmaps(self.api, ns, self.lab.name)
        self.topology_before = self._get_topology()

        pending = [cm for cm in self.lab.configmaps
                   if not configmap_in_sync(cm, existing_cms.get(cm["metadata"]["name"]), self.field_manager)]
        actions = {cm["metadata"]["name"]: "unchanged" for cm in self.lab.configmaps}
        if pending:
            def apply_one(cm):
                name = cm["metadata"]["name"]
                return name, self._apply(cm, cm_path(ns, name), existing_cms.get(name))[1]
            if len(pending) == 1:
                results = [apply_one(pending[0])]
            else:
                with ThreadPoolExecutor(max_workers=min(WORKERS, len(pending))) as pool:
                    results = list(pool.map(apply_one, pending))
            actions.update(dict(results))
        for cm in self.lab.configmaps:
            name = cm["metadata"]["name"]
            self.objects.append({"kind": "ConfigMap", "name": name, "action": actions[name]})

        topology = stamp_topology(self.lab.topology, self.api_version)
        if topology_in_sync(topology, self.topology_before, self.field_manager):
            self.topology_after, action = self.topology_before, "unchanged"
        else:
            self.topology_after, action = self._apply(
                topology, topology_path(self.api_version, ns, self.lab.name), self.topology_before)
        self.objects.append({"kind": "Topology", "name": self.lab.name, "action": action})
        # what the controller must process before its status says anything about this run:
        # a spec change (labels/annotations alone change nothing it reports, so it would
        # not rewrite the Topology)
        self.topology_spec_changed = self.topology_before is None or owned_state(
            topology, self.topology_before, self.field_manager, ("spec",)) != owned_state(
            topology, self.topology_after, self.field_manager, ("spec",))

        if prune:  # only now: the new Topology has been accepted, nothing references the old
            self._prune(existing_cms)
        return self

    def _prune(self, existing_cms):
        wanted = set(cm["metadata"]["name"] for cm in self.lab.configmaps)
        stale = [existing_cms[name] for name in sorted(existing_cms) if name not in wanted]
        stale_topologies = [t for n, t in sorted(self._list(topology_path(self.api_version, self.lab.namespace)).items())
                            if n != self.lab.name]
        # list items of built-in kinds carry no "kind": name it ourselves
        for kind, obj in [("Topology", t) for t in stale_topologies] + [("ConfigMap", c) for c in stale]:
            delete_object(self.api, kind, obj, self.api_version, self.lab.namespace, self.dry_run)
            self.objects.append({"kind": kind, "name": obj["metadata"]["name"], "action": "deleted"})
            self.diffs.append({"before_header": "%s/%s" % (kind, obj["metadata"]["name"]),
                               "after_header": "(deleted)", "before": view(obj), "after": {}})

    @property
    def changed(self):
        return any(o["action"] != "unchanged" for o in self.objects)


def delete_object(api, kind, obj, api_version, namespace, dry_run):
    """DELETE with background propagation (no GC runs foreground); True if it existed."""
    name = obj["metadata"]["name"]
    path = cm_path(namespace, name) if kind == "ConfigMap" else topology_path(api_version, namespace, name)
    query = [("propagationPolicy", "Background")] + ([("dryRun", "All")] if dry_run else [])
    try:
        api.request("DELETE", path, query=query)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise translate(exc, "delete", resource_of(kind, api_version), name=name, namespace=namespace,
                        host=api.host, kind=kind)
    return True


# -- remove (state=absent) -------------------------------------------------------------------


def _labelled(api, path, kind, lab, namespace, api_version="v1"):
    data = call(api, "GET", path, "list", kind, namespace=namespace, api_version=api_version,
                query=[("labelSelector", lab_selector(lab))])
    return sorted(data.get("items") or [], key=lambda o: o["metadata"]["name"])


def _wait_gone(api, targets, namespace, timeout):
    """targets: [(path, kind, name)]. Polls until each GET answers 404."""
    deadline = time.monotonic() + timeout
    remaining = list(targets)
    while remaining:
        still = []
        for path, kind, name, api_version in remaining:
            try:
                obj = api.request("GET", path)
            except ApiException as exc:
                if exc.status == 404:
                    continue
                raise translate(exc, "get", resource_of(kind, api_version), name=name, namespace=namespace,
                                host=api.host, kind=kind)
            still.append((path, kind, name, api_version, obj))
        if not still:
            return
        if time.monotonic() > deadline:
            details = ", ".join("%s/%s (finalizers: %s)" % (k, n, ", ".join(o["metadata"].get("finalizers") or [])
                                                            or "none") for _p, k, n, _a, o in still)
            raise LabError("deleted objects still present after %ds in namespace %s: %s. A finalizer "
                           "waits for its controller (is Clabernetes running?)" % (timeout, namespace, details))
        remaining = [s[:4] for s in still]
        time.sleep(0.5)


def remove(api, lab, namespace, api_versions, dry_run=False, timeout=300):
    """Delete the lab's Topology(ies), then its ConfigMaps; wait until gone. -> objects."""
    objects = []
    gone = []
    made = dict(((api_version, lab), []) for api_version in api_versions)
    for api_version in api_versions:
        for topo in _labelled(api, topology_path(api_version, namespace), "Topology", lab, namespace, api_version):
            name = topo["metadata"]["name"]
            # listed first: the garbage collector may remove some before we look again
            made[(api_version, name)] = c9s_owned.dependents(api, api_version, namespace, name)[0]
            if delete_object(api, "Topology", topo, api_version, namespace, dry_run):
                objects.append({"kind": "Topology", "name": name, "action": "deleted", "api_version": api_version})
                gone.append((topology_path(api_version, namespace, name), "Topology", name, api_version))
    if not dry_run:  # ConfigMaps go only after the Topology that mounts them
        _wait_gone(api, gone, namespace, timeout)
    cms = _labelled(api, cm_path(namespace), "ConfigMap", lab, namespace)

    def delete_cm(cm):
        return cm["metadata"]["name"], delete_object(api, "ConfigMap", cm, "v1", namespace, dry_run)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        deleted = [name for name, existed in pool.map(delete_cm, cms) if existed]
    for name in deleted:
        objects.append({"kind": "ConfigMap", "name": name, "action": "deleted"})
    if not dry_run:
        _wait_gone(api, [(cm_path(namespace, n), "ConfigMap", n, "v1") for n in deleted], namespace, timeout)
    # what the controller made for the Topology goes with it, through the garbage collector
    for api_version, name in sorted(made):
        objects.extend(c9s_owned.wait_collected(api, api_version, namespace, name, timeout, dry_run,
                                                made[(api_version, name)]))
    return objects
