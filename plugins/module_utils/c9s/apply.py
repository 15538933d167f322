# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Put a rendered lab into a cluster (see remove.py for taking it out).

Applier.run(): server-side apply of the ConfigMaps, then the Topology (never status), then prune
what carries this lab's labels but is no longer rendered. Objects whose applied fields
already hold the desired values are not sent at all (one LIST finds them), which makes a
no-op re-apply cheap; whatever is sent is judged created/updated/unchanged by comparing
what we own before and after (see owned_state), never resourceVersion or generation: the
Clabernetes controller rewrites the whole Topology (no status subresource), so its status
writes move both, and one landing between our read and our apply is not a change of ours.
Check mode sends the same requests through a dry-run client (k8s.client.Api(dry_run=True)).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.k8s.client import (
    APPLY_PATCH, ApiException, translate)
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.contract import (
    SOURCE_DIGEST, TOPOLOGY_GROUPS, cm_path, lab_selector, resource_of, secret_path, topology_path)

PRIVILEGED = {"pod-security.kubernetes.io/enforce": "privileged"}
APPLIED_DIGEST = "skyforge.labs/applied-sha256"
WORKERS = 8


def _call(api, method, path, verb, kind, name=None, namespace=None, api_version="v1", **kwargs):
    resource = resource_of(kind, api_version)
    return api.call(method, path, verb, resource, name=name, namespace=namespace, kind=kind, **kwargs)


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


def ensure_namespace(api, namespace, field_manager):
    """Create the namespace (or add the Pod Security label). Returns the action."""
    current = api.get_or_none("/api/v1/namespaces/%s" % namespace, "namespaces", name=namespace, kind="Namespace")
    labels = ((current or {}).get("metadata") or {}).get("labels") or {}
    if current and all(labels.get(k) == v for k, v in PRIVILEGED.items()):
        return "unchanged"
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": dict(PRIVILEGED)}}
    query = [("fieldManager", field_manager)]
    _call(api, "PATCH", "/api/v1/namespaces/%s" % namespace, "patch", "Namespace", name=namespace,
          body=body, query=query, content_type=APPLY_PATCH)
    return "created" if current is None else "updated"


# -- apply -----------------------------------------------------------------------------------


def object_path(kind, namespace, name=None):
    return secret_path(namespace, name) if kind == "Secret" else cm_path(namespace, name)


def list_labelled(api, kind, namespace, lab):
    """{name: object} of the lab's labelled ConfigMaps or Secrets (empty when no namespace);
    list items carry no kind, so it is set here."""
    items = api.list(object_path(kind, namespace), resource_of(kind, "v1"), lab_selector(lab),
                     namespace=namespace, kind=kind)
    return {item["metadata"]["name"]: dict(item, kind=kind) for item in items}


def list_configmaps(api, namespace, lab):
    """{name: ConfigMap} of the lab's labelled ConfigMaps (404-free: empty when no namespace)."""
    return list_labelled(api, "ConfigMap", namespace, lab)


def _kind(obj):
    return obj.get("kind") or "ConfigMap"


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


def source_digest(value):
    """The bundle sha256 c9s_apply records on the Topology, checked before anything is sent."""
    if not value:
        return None
    if not isinstance(value, str) or not re.match(r"\A[0-9a-f]{64}\Z", value):
        raise LabError("source_sha256 must be the 64 lower-case hex digits of the bundle's sha256 "
                       "(netlab_generate returns it as bundle_sha256), not %r" % (value,))
    return value


def stamp_topology(topology, api_version, source_sha256=None):
    """The Topology to send: served apiVersion, the bundle it came from (when known), plus a
    digest of what we apply.

    The digest lets a re-apply skip sending a large, unchanged Topology (see topology_in_sync).
    """
    topology = copy.deepcopy(topology)
    topology["apiVersion"] = api_version
    annotations = topology["metadata"].setdefault("annotations", {})
    annotations.pop(APPLIED_DIGEST, None)
    if source_sha256:
        annotations[SOURCE_DIGEST] = source_sha256
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
    if obj.get("kind") == "Secret" and "data" in out:  # credentials never reach a diff or a log
        out["data"] = dict((key, "(hidden)") for key in out["data"])
    return out


class Applier:
    """One apply run: holds the connection, options and what it found and did."""

    def __init__(self, api, lab, api_version, field_manager, force=False, source_sha256=None):
        self.api = api
        self.lab = lab
        self.api_version = api_version
        self.field_manager = field_manager
        self.force = force
        self.source_sha256 = source_sha256
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
        return query

    def _apply(self, obj, path, before):
        kind, name = obj["kind"], obj["metadata"]["name"]
        after = _call(self.api, "PATCH", path, "patch", kind, name=name, namespace=self.lab.namespace,
                      api_version=self.api_version, body=obj, query=self._query(), content_type=APPLY_PATCH)
        action = _action(obj, before, after, self.field_manager)
        if action != "unchanged":
            self.diffs.append({"before_header": "%s/%s" % (kind, name), "after_header": "%s/%s" % (kind, name),
                               "before": view(before), "after": view(after)})
        return after, action

    def _get_topology(self):
        return self.api.get_or_none(topology_path(self.api_version, self.lab.namespace, self.lab.name),
                                    resource_of("Topology", self.api_version), name=self.lab.name,
                                    namespace=self.lab.namespace, kind="Topology")

    def run(self, prune=True, namespace_missing=False, existing_cms=None):
        ns = self.lab.namespace
        if namespace_missing:
            # dry run into a namespace that does not exist yet: the server would reject every
            # request with 404, so report what the real run would create
            for obj in self.lab.configmaps + self.lab.secrets + [self.lab.topology]:
                self.objects.append({"kind": obj["kind"], "name": obj["metadata"]["name"], "action": "created"})
                self.diffs.append({"before_header": "(absent)", "after_header": "%s/%s" % (
                    obj["kind"], obj["metadata"]["name"]), "before": {}, "after": view(obj)})
            return self
        if existing_cms is None:
            existing_cms = list_configmaps(self.api, ns, self.lab.name)
        self.topology_before = self._get_topology()

        self._apply_all("ConfigMap", self.lab.configmaps, existing_cms)
        existing_secrets = self._existing_secrets(prune)
        self._apply_all("Secret", self.lab.secrets, existing_secrets)

        topology = stamp_topology(self.lab.topology, self.api_version, self.source_sha256)
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
            self._prune(existing_cms, existing_secrets)
        return self

    def _existing_secrets(self, prune):
        """The lab's Secrets (to apply against and prune). A lab without credentials (a plain
        containerlab lab) applied by a user who may not list Secrets has none of ours to prune:
        this user could never have created one."""
        if not (self.lab.secrets or prune):
            return {}
        try:
            return list_labelled(self.api, "Secret", self.lab.namespace, self.lab.name)
        except LabError as exc:
            if exc.details.get("status") == 403 and not self.lab.secrets:
                return {}
            raise

    def _apply_all(self, kind, objs, existing):
        """Apply the objects of one kind that are not in sync, in parallel; record each action."""
        ns = self.lab.namespace
        pending = [obj for obj in objs
                   if not configmap_in_sync(obj, existing.get(obj["metadata"]["name"]), self.field_manager)]
        actions = {obj["metadata"]["name"]: "unchanged" for obj in objs}
        if pending:
            def apply_one(obj):
                name = obj["metadata"]["name"]
                return name, self._apply(obj, object_path(kind, ns, name), existing.get(name))[1]
            if len(pending) == 1:
                results = [apply_one(pending[0])]
            else:
                with ThreadPoolExecutor(max_workers=min(WORKERS, len(pending))) as pool:
                    results = list(pool.map(apply_one, pending))
            actions.update(dict(results))
        for obj in objs:
            name = obj["metadata"]["name"]
            self.objects.append({"kind": kind, "name": name, "action": actions[name]})

    def _prune(self, existing_cms, existing_secrets):
        stale = []
        for objs, existing in ((self.lab.configmaps, existing_cms), (self.lab.secrets, existing_secrets)):
            wanted = set(obj["metadata"]["name"] for obj in objs)
            stale.extend(existing[name] for name in sorted(existing) if name not in wanted)
        stale_topologies = [t for t in self.api.list(topology_path(self.api_version, self.lab.namespace),
                                                     resource_of("Topology", self.api_version), lab_selector(self.lab.name),
                                                     namespace=self.lab.namespace, kind="Topology")
                            if t["metadata"]["name"] != self.lab.name]
        # list items of built-in kinds carry no "kind": name it ourselves
        for kind, obj in [("Topology", t) for t in stale_topologies] + [(_kind(c), c) for c in stale]:
            delete_object(self.api, kind, obj, self.api_version, self.lab.namespace)
            self.objects.append({"kind": kind, "name": obj["metadata"]["name"], "action": "deleted"})
            self.diffs.append({"before_header": "%s/%s" % (kind, obj["metadata"]["name"]),
                               "after_header": "(deleted)", "before": view(obj), "after": {}})

    @property
    def changed(self):
        return any(o["action"] != "unchanged" for o in self.objects)


def delete_object(api, kind, obj, api_version, namespace):
    """DELETE with background propagation (no GC runs foreground); True if it existed."""
    name = obj["metadata"]["name"]
    path = topology_path(api_version, namespace, name) if kind == "Topology" else object_path(kind, namespace, name)
    try:
        api.request("DELETE", path, query=[("propagationPolicy", "Background")])
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise translate(exc, "delete", resource_of(kind, api_version), name=name, namespace=namespace,
                        host=api.host, kind=kind)
    return True
