# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""c9s_apply against the real Clabernetes manager while it writes the Topology.

The controller rewrites the whole Topology (no status subresource), so its status writes
bump metadata.generation and resourceVersion like a spec change would. These tests force
such a write into the window between c9s_apply's read of the Topology and its apply (by
hooking the read), so the race that happened by chance in the field happens every time:
an identical re-apply must still say changed=false and must not wait for a rewrite.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import concurrent.futures
import time

import pytest
import yaml

from ansible_collections.skyforge.labs.plugins.module_utils.c9s import service as c9s_apply
from ansible_collections.skyforge.labs.plugins.module_utils.c9s import apply as c9s_deploy
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.wait import definition_nodes, evaluate
from tests.integration.test_c9s_manager_lab import _docs, _get_topology as _get, _params, _topology_doc


def _until(predicate, what, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "waited %ds for %s" % (timeout, what)
        time.sleep(0.1)


def _controller_writes_after_our_read(monkeypatch, kubelet, nodes):
    """Hook Applier._get_topology: after c9s_apply has read the Topology, a launcher restarts
    (the controller writes notready) and comes back (it writes ready again: nothing more to
    say). Returns the list of (generation read, generation when the apply goes on)."""
    original = c9s_deploy.Applier._get_topology
    seen = []

    def read_then_controller_writes(self):
        before = original(self)
        generation = before["metadata"]["generation"]
        kubelet.hold.add(nodes[0])
        _until(lambda: original(self)["metadata"]["generation"] > generation, "the controller's notready write")
        kubelet.release(nodes[0])

        _until(lambda: evaluate(original(self), self.api_version, nodes)["ready"], "the controller's ready write")
        seen.append((generation, original(self)["metadata"]["generation"]))
        return before  # what c9s_apply read: now older than the live object

    monkeypatch.setattr(c9s_deploy.Applier, "_get_topology", read_then_controller_writes)
    return seen


def _ready_lab(control_plane, kubelet, c9s_lab):
    kubelet.run(boot=0.2)
    src, _rendered = c9s_lab()
    assert c9s_apply.run(_params(control_plane, src, wait=True, wait_timeout=60))["readiness"]["ready"]
    return src, definition_nodes(_topology_doc(src))


def test_unchanged_reapply_during_a_controller_write_is_unchanged_and_ready(
        control_plane, c9s_manager, c9s_namespace, kubelet, c9s_lab, monkeypatch):
    src, nodes = _ready_lab(control_plane, kubelet, c9s_lab)
    seen = _controller_writes_after_our_read(monkeypatch, kubelet, nodes)
    started = time.monotonic()
    result = c9s_apply.run(_params(control_plane, src, wait=True, wait_timeout=20))
    assert seen and seen[0][1] > seen[0][0]  # the controller did write in between
    assert result["changed"] is False, result["objects"]
    assert {o["action"] for o in result["objects"]} == {"unchanged"}
    assert result["readiness"]["ready"]
    assert time.monotonic() - started < 15  # no wait for a rewrite that never comes


def test_a_topology_that_must_be_sent_is_judged_by_our_fields_not_the_generation(
        control_plane, c9s_manager, c9s_namespace, kubelet, c9s_lab, monkeypatch):
    """Same race, but the Topology goes out (as every re-apply did while the controller's
    defaulted spec fields made it look out of sync): still unchanged, still ready."""
    src, nodes = _ready_lab(control_plane, kubelet, c9s_lab)
    seen = _controller_writes_after_our_read(monkeypatch, kubelet, nodes)
    monkeypatch.setattr(c9s_deploy, "topology_in_sync", lambda *_args: False)
    sent = []
    original_apply = c9s_deploy.Applier._apply

    def record(self, obj, path, before):
        sent.append(obj["kind"])
        return original_apply(self, obj, path, before)

    monkeypatch.setattr(c9s_deploy.Applier, "_apply", record)
    result = c9s_apply.run(_params(control_plane, src, wait=True, wait_timeout=20))
    assert sent == ["Topology"] and seen and seen[0][1] > seen[0][0]
    assert result["changed"] is False, result["objects"]
    assert result["readiness"]["ready"]


def test_a_noop_reapply_sends_nothing_although_the_controller_owns_defaulted_spec_fields(
        control_plane, admin_api, c9s_manager, c9s_namespace, kubelet, c9s_lab, monkeypatch):
    src, _nodes = _ready_lab(control_plane, kubelet, c9s_lab)
    group, version = c9s_manager.api_version.split("/")
    from kubernetes import client

    live = client.CustomObjectsApi(admin_api).get_namespaced_custom_object(
        group, version, c9s_namespace, "topologies", _topology_doc(src)["metadata"]["name"])
    spec_writers = {e["manager"] for e in live["metadata"]["managedFields"]
                    if e["manager"] != "skyforge-labs" and "f:spec" in (e.get("fieldsV1") or {})}
    assert spec_writers  # what made every re-apply look out of sync
    sent = []
    original_apply = c9s_deploy.Applier._apply

    def record(self, obj, path, before):
        sent.append("%s/%s" % (obj["kind"], obj["metadata"]["name"]))
        return original_apply(self, obj, path, before)

    monkeypatch.setattr(c9s_deploy.Applier, "_apply", record)
    result = c9s_apply.run(_params(control_plane, src, wait=True, wait_timeout=20))
    assert sent == [] and result["changed"] is False
    assert result["readiness"]["ready"]


def _with_node_image(src, node, image, dest):
    """The rendered lab with one node's image changed in the containerlab definition: the
    controller re-renders that node's launcher (its image is in the pod template)."""
    docs = _docs(src)
    topology = docs[-1]
    clab = yaml.safe_load(topology["spec"]["definition"]["containerlab"])
    clab["topology"]["nodes"][node]["image"] = image
    topology["spec"]["definition"]["containerlab"] = yaml.safe_dump(clab, sort_keys=True)
    with open(dest, "w") as handle:
        yaml.safe_dump_all(docs, handle, sort_keys=True)
    return dest


@pytest.mark.parametrize("c9s_manager", ["v0.6"], indirect=True)
def test_v06_a_ready_written_before_the_launchers_rolled_out_does_not_end_the_wait(
        control_plane, admin_api, c9s_manager, c9s_namespace, kubelet, c9s_lab, tmp_path):
    """After a definition change v0.6 updates the launcher Deployments, then writes a status computed
    from them as listed before the update: the old pods' readyReplicas=1, so 'ready' before
    any launcher restarted. With the kubelet stand-in stopped the rollout waits, as on a
    busy cluster; the wait must wait with it."""
    src, nodes = _ready_lab(control_plane, kubelet, c9s_lab)
    name = _topology_doc(src)["metadata"]["name"]
    before = _get(admin_api, c9s_manager, c9s_namespace, name)["status"]["reconcileHashes"]["config"]
    kubelet.stop()
    changed = _with_node_image(src, "h1", "python:3.13-slim", str(tmp_path / "changed.yml"))
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(c9s_apply.run, _params(control_plane, changed, wait=True, wait_timeout=60))

        def premature_ready():  # the controller's status for our change, still saying ready
            status = _get(admin_api, c9s_manager, c9s_namespace, name).get("status") or {}
            return status.get("reconcileHashes", {}).get("config") != before and status.get("topologyReady")

        _until(premature_ready, "the controller's status for the change")
        rolling = kubelet.deployments(name)["h1"]
        assert rolling.metadata.generation > rolling.status.observed_generation
        assert rolling.status.ready_replicas == 1  # what the controller's "ready" came from
        time.sleep(2)
        assert not waiting.done(), "returned on a Ready computed before the launchers rolled out"
        kubelet.run(boot=0.5)
        result = waiting.result(timeout=60)
    assert result["readiness"]["ready"] and result["readiness"]["launchers"] == {
        "checked": True, "deployments": len(nodes)}
    for deployment in kubelet.deployments(name).values():
        assert deployment.status.observed_generation == deployment.metadata.generation
        assert deployment.status.ready_replicas == 1
