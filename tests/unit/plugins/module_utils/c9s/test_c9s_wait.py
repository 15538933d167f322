# -*- coding: utf-8 -*-
"""When a Topology status counts as fresh, and what 'ready' means per API generation."""

from ansible_collections.skyforge.labs.plugins.module_utils.c9s.wait import Baseline, _rollout_pending, evaluate

ME = "skyforge-labs"


def topo(generation, status=None, fields=()):
    managed = [{"manager": m, "operation": op, "time": t, "fieldsV1": {"f:status": {}} if st else {"f:spec": {}}}
               for m, op, t, st in fields]
    obj = {"metadata": {"generation": generation, "managedFields": managed}}
    if status is not None:
        obj["status"] = status
    return obj


def test_after_a_spec_change_only_a_later_write_is_fresh():
    before = topo(3, {"topologyReady": True}, [(ME, "Apply", "2026-01-01T00:00:00Z", False)])
    after = topo(4, {"topologyReady": True})
    baseline = Baseline(before, after, ME, spec_changed=True)
    assert baseline.spec_changed
    assert not baseline.fresh(after)[0]
    assert baseline.fresh(topo(5, {"topologyReady": True}))[0]


def test_without_a_change_the_status_must_not_predate_our_last_apply():
    ours = (ME, "Apply", "2026-01-01T00:00:10Z", False)
    stale = topo(4, {"topologyReady": True}, [ours, ("ctrl", "Update", "2026-01-01T00:00:09Z", True)])
    fresh = topo(4, {"topologyReady": True}, [ours, ("ctrl", "Update", "2026-01-01T00:00:10Z", True)])
    assert not Baseline(stale, stale, ME, False).fresh(stale)[0]
    assert "before our last change" in Baseline(stale, stale, ME, False).fresh(stale)[1]
    assert Baseline(fresh, fresh, ME, False).fresh(fresh)[0]


def test_a_controller_write_between_our_read_and_apply_is_not_our_change():
    """Generation moved (the controller's status write) but our apply changed nothing: the
    status it wrote counts, no rewrite after ours is awaited."""
    ours = (ME, "Apply", "2026-01-01T00:00:10Z", False)
    before = topo(4, {"topologyReady": False}, [ours, ("ctrl", "Update", "2026-01-01T00:00:11Z", True)])
    after = topo(5, {"topologyReady": True}, [ours, ("ctrl", "Update", "2026-01-01T00:00:12Z", True)])
    baseline = Baseline(before, after, ME, spec_changed=False)
    assert not baseline.spec_changed and baseline.fresh(after)[0]


def test_no_status_is_never_fresh():
    created = topo(1)
    assert Baseline(None, created, ME, False).fresh(created) == (False, "the controller has not written a status yet")


def test_v06_needs_every_defined_node_ready():
    status = {"topologyReady": True, "nodeReadiness": {"r1": "ready"},
              "conditions": [{"type": "TopologyReady", "status": "True"}]}
    info = evaluate({"status": status}, "clabernetes.containerlab.dev/v1alpha1", ["r1", "r2"])
    assert not info["ready"] and info["nodes"]["r2"].startswith("unknown")
    assert evaluate({"status": status}, "clabernetes.containerlab.dev/v1alpha1", ["r1"])["ready"]


def test_c9s_run_counts_and_error():
    status = {"topologyReady": True, "nodeCount": 2, "readyNodeCount": 2, "conditions": []}
    assert evaluate({"status": status}, "c9s.run/v1alpha1", [])["ready"]
    assert not evaluate({"status": dict(status, readyNodeCount=1)}, "c9s.run/v1alpha1", [])["ready"]
    assert not evaluate({"status": dict(status, error="boom")}, "c9s.run/v1alpha1", [])["ready"]
    assert not evaluate({"status": dict(status, nodeCount=0, readyNodeCount=0)}, "c9s.run/v1alpha1", [])["ready"]


def deployment(generation, observed, replicas=1, updated=1, ready=1):
    return {"metadata": {"name": "lab-r1", "generation": generation}, "spec": {"replicas": 1},
            "status": {"observedGeneration": observed, "replicas": replicas, "updatedReplicas": updated,
                       "readyReplicas": ready}}


def test_a_launcher_counts_only_once_its_current_template_rolled_out_and_is_ready():
    assert _rollout_pending(deployment(2, 2)) is None
    assert "observedGeneration 1 < generation 2" in _rollout_pending(deployment(2, 1))  # old pod's ready=1
    assert "old pods still terminating" in _rollout_pending(deployment(2, 2, replicas=2, updated=1))
    assert _rollout_pending(deployment(2, 2, ready=0)) == "0/1 ready"
    assert "observedGeneration 0" in _rollout_pending({"metadata": {"generation": 1}, "spec": {}})
