# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait until Clabernetes reports a lab ready — a readiness that describes our change.

Neither Topology API has a status subresource or an observedGeneration the controller
maintains: the controller rewrites the whole object. So a status is trusted only when it
was written after our last change of the spec:
- this run changed the spec (or created the object), as the apply judged it from what we
  own (c9s.apply.owned_state), never from generation: the controller's own status writes
  bump metadata.generation too, and one landing between our read and our apply must not
  pass for our change. After our change, the apiserver bumps metadata.generation on every
  non-metadata write, so a status written after our apply shows a generation above the one
  our apply produced. The controller writes the Topology only when the status it computes
  differs (it skips equal statuses), so a change is seen as processed once node readiness
  moved (launchers roll when their files change); a change no node notices leaves the wait
  to time out, saying why, rather than report a Ready that may be stale.
- this run changed nothing in the spec: the status writer's managedFields time must not be
  older than our own Apply entry from before this run (a previous run may have changed the
  spec and stopped before the controller caught up). Times have one-second resolution;
  equal counts as fresh.

Readiness per API:
- clabernetes.containerlab.dev/v1alpha1 (v0.6): status.topologyReady, condition
  TopologyReady=True, and status.nodeReadiness "ready" for every node in the definition.
  v0.6 computes that status from the launcher Deployments as it listed them before it
  updated them for a change, so right after a change it reports the old pods' readiness.
  Hence also every launcher Deployment (label contract.owner_label(api_version)=<name>) must have
  rolled out: status.observedGeneration == metadata.generation, no old replicas left, the
  wanted replicas ready. Where Deployments cannot be read (403), the status alone decides
  and the result says so.
- c9s.run/v1alpha1 (v0.7+): status.topologyReady, readyNodeCount == nodeCount > 0, no
  status.error. The Topology status only counts its Node objects' status.readiness (the Node
  controller sets it from its Deployment's readyReplicas == 1), and the Topology is rewritten
  only when those counts change; per-node detail lives on the Node objects (label
  c9s.run/topologyOwner=<name>), listed on a timeout.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.k8s.client import ApiException, translate
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.contract import (
    C9S_RUN, V06, node_label, owner_selector, resource_of, topology_path)
from ansible_collections.skyforge.labs.plugins.module_utils.common.yaml_text import HAS_YAML, load as load_yaml
from ansible_collections.skyforge.labs.plugins.module_utils.k8s.waiter import wait_for


def _apply_time(obj, field_manager):
    for entry in (obj or {}).get("metadata", {}).get("managedFields") or []:
        if entry.get("manager") == field_manager and entry.get("operation") == "Apply":
            return entry.get("time")
    return None


def _status_writes(obj, field_manager):
    """(manager, time) of every other manager that owns fields under status."""
    out = []
    for entry in (obj or {}).get("metadata", {}).get("managedFields") or []:
        if entry.get("manager") == field_manager:
            continue
        if "f:status" in (entry.get("fieldsV1") or {}):
            out.append((entry.get("manager"), entry.get("time") or ""))
    return out


class Baseline:
    """What 'fresh' means for this run, from the Topology before and after our apply.

    spec_changed: whether our apply changed the spec (c9s.apply.Applier.topology_spec_changed).
    """

    def __init__(self, before, after, field_manager, spec_changed):
        self.field_manager = field_manager
        self.generation = (after or {}).get("metadata", {}).get("generation") or 0
        self.spec_changed = before is None or bool(spec_changed)
        self.reference_time = _apply_time(before, field_manager)

    def fresh(self, obj):
        """(is the status about our change?, why not)"""
        if not obj.get("status"):
            return False, "the controller has not written a status yet"
        if self.spec_changed:
            generation = obj["metadata"].get("generation") or 0
            if generation > self.generation:
                return True, ""
            return False, ("the status predates our change: the controller has not rewritten the "
                           "Topology since our apply (generation %d is still the one our apply produced). "
                           "Is the Clabernetes manager running and watching this namespace?" % generation)
        if not self.reference_time:
            return True, ""
        writes = _status_writes(obj, self.field_manager)
        latest = max([t for _m, t in writes] or [""])
        if latest >= self.reference_time:
            return True, ""
        return False, ("the status was last written at %s by %s, before our last change at %s"
                       % (latest or "never", ", ".join(sorted(m for m, _t in writes)) or "nobody",
                          self.reference_time))


def definition_nodes(topology):
    """Node names of the containerlab definition (sorted), or [] when unreadable."""
    text = ((topology.get("spec") or {}).get("definition") or {}).get("containerlab")
    if not text or not HAS_YAML:
        return []
    try:
        clab = load_yaml(text)
        return sorted(((clab.get("topology") or {}).get("nodes") or {}).keys())
    except Exception:  # the controller reports definition errors; we only use this for detail
        return []


def evaluate(obj, api_version, expected_nodes):
    """Readiness as the served API defines it: dict(ready, nodes, ready_nodes, total_nodes, ...)."""
    status = obj.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    condition = conditions.get("TopologyReady") or {}
    info = {"topology_ready": bool(status.get("topologyReady")),
            "topology_state": status.get("topologyState"),
            "condition": {k: condition.get(k) for k in ("status", "reason", "message") if condition.get(k)},
            "error": status.get("error") or None}
    if api_version == C9S_RUN:
        total, ready_nodes = status.get("nodeCount") or 0, status.get("readyNodeCount") or 0
        info.update(total_nodes=total, ready_nodes=ready_nodes, nodes={})
        info["ready"] = bool(info["topology_ready"] and total > 0 and ready_nodes == total
                             and not info["error"] and condition.get("status", "True") == "True")
    else:
        readiness = dict(status.get("nodeReadiness") or {})
        for node in expected_nodes:
            readiness.setdefault(node, "unknown (not in status.nodeReadiness)")
        ready_nodes = sum(1 for v in readiness.values() if v == "ready")
        info.update(total_nodes=len(readiness), ready_nodes=ready_nodes, nodes=readiness)
        info["ready"] = bool(info["topology_ready"] and readiness and ready_nodes == len(readiness)
                             and condition.get("status") == "True")
    return info


def _rollout_pending(deployment):
    """Why a launcher Deployment has not rolled out its current pod template, or None."""
    meta, spec, status = deployment.get("metadata") or {}, deployment.get("spec") or {}, deployment.get("status") or {}
    generation, observed = meta.get("generation") or 0, status.get("observedGeneration") or 0
    want = spec.get("replicas", 1)
    if observed < generation:
        return "new pod template not rolled out yet (observedGeneration %d < generation %d)" % (observed, generation)
    if (status.get("replicas") or 0) > (status.get("updatedReplicas") or 0):
        return "old pods still terminating (%d replicas, %d updated)" % (
            status.get("replicas") or 0, status.get("updatedReplicas") or 0)
    if (status.get("updatedReplicas") or 0) < want or (status.get("readyReplicas") or 0) < want:
        return "%d/%d ready" % (status.get("readyReplicas") or 0, want)
    return None


def launchers(api, namespace, name, expected_nodes, api_version=V06):
    """The rollout of the Topology's launcher Deployments.

    -> {"checked": True, "deployments": n, "pending": ["<deployment> (node): why", ...]}, or
    {"checked": False, "reason": ...} when this user may not list Deployments (403).
    """
    try:
        items = api.request("GET", "/apis/apps/v1/namespaces/%s/deployments" % namespace,
                            query=[("labelSelector", owner_selector(name, api_version))]).get("items") or []
    except ApiException as exc:
        if exc.status == 403:
            return {"checked": False, "reason": (
                "cannot list Deployments in namespace %s (403): readiness rests on the Topology status "
                "alone, which Clabernetes may write from the launchers' state before a rollout; "
                "grant 'list' on 'deployments' (the shipped Role does) to wait for rollouts too" % namespace)}
        raise translate(exc, "list", "deployments.apps", namespace=namespace, host=api.host, kind="Deployment")
    pending = []
    nodes = set()
    for deployment in sorted(items, key=lambda d: d["metadata"]["name"]):
        node = (deployment["metadata"].get("labels") or {}).get(node_label(api_version))
        nodes.add(node)
        why = _rollout_pending(deployment)
        if why:
            pending.append("%s (node %s): %s" % (deployment["metadata"]["name"], node, why))
    pending.extend("node %s: no launcher Deployment yet" % n for n in expected_nodes if n not in nodes)
    if not items and not expected_nodes:
        pending.append("no launcher Deployment yet")
    return {"checked": True, "deployments": len(items), "pending": pending}


def topology_ready(api, api_version, namespace, name, baseline, expected_nodes):
    """Probe for k8s.waiter.wait_for: (ready and fresh?, (readiness info, why not fresh));
    raises LabError when Clabernetes reports the Topology failed."""
    path = topology_path(api_version, namespace, name)
    resource = resource_of("Topology", api_version)

    def probe():
        obj = api.call("GET", path, "get", resource, name=name, namespace=namespace, kind="Topology")
        fresh, why = baseline.fresh(obj)
        info = evaluate(obj, api_version, expected_nodes)
        if fresh and info["ready"] and api_version == V06:
            rollout = launchers(api, namespace, name, expected_nodes, api_version)
            info["launchers"] = {k: v for k, v in rollout.items() if k != "pending"}
            if rollout.get("pending"):
                fresh, why = False, ("the controller reports ready, but launcher Deployments have not "
                                     "finished rolling out: %s" % "; ".join(rollout["pending"]))
        if fresh and not info["ready"] and (info["error"] or info["topology_state"] == "deployfailed"):
            raise LabError("Clabernetes reports Topology %s in namespace %s failed: %s%s" % (
                name, namespace, info["error"] or "state deployfailed",
                diagnostics(api, api_version, namespace, name)))
        return fresh and info["ready"], (info, fresh, why)
    return probe


def wait_ready(api, api_version, namespace, name, baseline, expected_nodes, timeout, interval=1.0):
    """Poll the Topology until it is ready and fresh; LabError with diagnostics on timeout."""
    def timed_out(last):
        info, fresh, why = last
        return LabError("Topology %s in namespace %s (%s) not ready after %ds: %s%s" % (
            name, namespace, api_version, timeout,
            why if not fresh else "%d/%d nodes ready" % (info["ready_nodes"], info["total_nodes"]),
            diagnostics(api, api_version, namespace, name, info)))
    (info, _fresh, _why), waited = wait_for(
        topology_ready(api, api_version, namespace, name, baseline, expected_nodes), timeout, timed_out, interval)
    info["waited"] = round(waited, 1)
    return info


def _try_list(api, path, query=None):
    try:
        return api.request("GET", path, query=query).get("items") or [], None
    except ApiException as exc:
        if exc.status == 404:
            return [], "(that API is not served here)"
        return [], "(cannot list: HTTP %s)" % (exc.status,)
    except LabError as exc:
        return [], "(cannot list: %s)" % exc


def diagnostics(api, api_version, namespace, name, info=None):
    """What a user needs on a timeout: per-node readiness, pod phases, recent events."""
    lines = []
    if info is not None:
        if info.get("nodes"):
            lines.append("nodes: " + ", ".join("%s=%s" % kv for kv in sorted(info["nodes"].items())))
        condition = info["condition"]
        lines.append("status: topologyReady=%s, state %s, condition TopologyReady=%s%s%s" % (
            info["topology_ready"], info["topology_state"] or "unset", condition.get("status", "unset"),
            " (%s: %s)" % (condition.get("reason"), condition.get("message")) if condition.get("reason") else "",
            ", error: %s" % info["error"] if info["error"] else ""))
    if api_version == C9S_RUN:
        nodes, err = _try_list(api, "/apis/c9s.run/v1alpha1/namespaces/%s/nodes" % namespace,
                               [("labelSelector", owner_selector(name, api_version))])
        lines.append("nodes: " + (", ".join("%s=%s" % (n["metadata"]["name"], (n.get("status") or {}).get(
            "readiness", "unknown")) for n in nodes) or "no c9s.run Node objects for this Topology %s" % (
                err or "yet (the controller creates them)")))
    pods, err = _try_list(api, "/api/v1/namespaces/%s/pods" % namespace)
    if err:
        lines.append("pods: %s" % err)
    else:
        lines.append("pods: " + (", ".join("%s=%s" % (p["metadata"]["name"], _pod_state(p)) for p in pods)
                                 or "none (no launcher pods scheduled: is the Clabernetes manager running?)"))
    deployments, err = _try_list(api, "/apis/apps/v1/namespaces/%s/deployments" % namespace)
    if deployments:
        lines.append("deployments: " + ", ".join("%s ready %s/%s" % (
            d["metadata"]["name"], (d.get("status") or {}).get("readyReplicas", 0),
            (d.get("spec") or {}).get("replicas", 1)) for d in deployments))
    events, err = _try_list(api, "/api/v1/namespaces/%s/events" % namespace)
    if err:
        lines.append("events: %s" % err)
    else:
        events = sorted(events, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")[-15:]
        lines.append("events: " + ("; ".join("%s %s/%s %s: %s" % (
            e.get("type"), (e.get("involvedObject") or {}).get("kind"), (e.get("involvedObject") or {}).get("name"),
            e.get("reason"), " ".join((e.get("message") or "").split())) for e in events) or "none"))
    return "\n" + "\n".join(lines)


def _pod_state(pod):
    status = pod.get("status") or {}
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting")
        if waiting:
            return "%s (%s: %s)" % (status.get("phase"), container.get("name"), waiting.get("reason"))
    return status.get("phase") or "Unknown"
