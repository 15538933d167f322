# -*- coding: utf-8 -*-
"""What c9s_apply counts as a change of ours: the fields we apply, never generation or
resourceVersion, which the Clabernetes controller's whole-object status writes move too."""

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.c9s.apply import (
    _action, owned_state, project, source_digest, stamp_topology, topology_in_sync)
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError

ME = "skyforge-labs"
V06 = "clabernetes.containerlab.dev/v1alpha1"
OURS = {"f:metadata": {"f:labels": {"f:app": {}}, "f:annotations": {"f:skyforge.labs/applied-sha256": {}}},
        "f:spec": {"f:naming": {}, "f:definition": {"f:containerlab": {}}}}


def desired(definition="name: lab\n"):
    return stamp_topology({"apiVersion": V06, "kind": "Topology",
                           "metadata": {"name": "lab", "namespace": "ns", "labels": {"app": "lab"}},
                           "spec": {"naming": "prefixed", "definition": {"containerlab": definition}}}, V06)


def live(doc, generation=1, resource_version="1", status=None, fields=None, controller_spec=True):
    """doc as the cluster holds it after our Apply, with the controller's defaults and status."""
    spec = dict(doc["spec"], deployment={"containerlabTimeout": "30m"}, statusProbes={"enabled": False})
    managed = [{"manager": ME, "operation": "Apply", "time": "2026-01-01T00:00:00Z", "fieldsV1": fields or OURS}]
    if controller_spec:
        managed.append({"manager": "clabernetes", "operation": "Update", "time": "2026-01-01T00:00:05Z",
                        "fieldsV1": {"f:spec": {"f:deployment": {}}, "f:status": {}}})
    meta = dict(doc["metadata"], generation=generation, resourceVersion=resource_version, managedFields=managed)
    obj = {"apiVersion": V06, "kind": "Topology", "metadata": meta, "spec": spec}
    if status is not None:
        obj["status"] = status
    return obj


def test_a_controller_status_write_between_read_and_apply_is_not_a_change_of_ours():
    doc = desired()
    before = live(doc, generation=3, resource_version="10", status={"topologyReady": False})
    after = live(doc, generation=4, resource_version="12", status={"topologyReady": True})
    assert _action(doc, before, after, ME) == "unchanged"
    assert owned_state(doc, before, ME, ("spec",)) == owned_state(doc, after, ME, ("spec",))


def test_a_new_value_or_a_dropped_field_is_a_change():
    old, new = desired("name: lab\n"), desired("name: lab2\n")
    before = live(old)
    assert _action(new, before, live(new, generation=2), ME) == "updated"
    assert _action(new, None, live(new), ME) == "created"


def test_a_key_the_render_dropped_is_a_change_although_every_value_we_send_is_equal():
    """SSA removes what we no longer apply; only our managedFields show it."""
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"a": "1"}}

    def cm(data):
        fields = {"f:data": {"f:" + key: {} for key in data}}
        return {"metadata": {"name": "cm", "managedFields": [
            {"manager": ME, "operation": "Apply", "fieldsV1": fields}]}, "data": data}

    assert _action(doc, cm({"a": "1", "b": "2"}), cm({"a": "1"}), ME) == "updated"
    assert _action(doc, cm({"a": "1"}), cm({"a": "1"}), ME) == "unchanged"


def test_the_controllers_defaulted_spec_fields_do_not_put_the_topology_out_of_sync():
    doc = desired()
    assert topology_in_sync(doc, live(doc, status={"topologyReady": True}), ME)
    assert not topology_in_sync(desired("name: other\n"), live(doc), ME)
    drifted = live(doc)
    drifted["spec"]["naming"] = "global"  # someone changed a field we set
    assert not topology_in_sync(doc, drifted, ME)
    not_ours = live(doc)
    not_ours["metadata"]["managedFields"] = not_ours["metadata"]["managedFields"][1:]
    assert not topology_in_sync(doc, not_ours, ME)


def test_project_sees_live_values_only_where_desired_sets_them():
    assert project({"a": {"b": 1}, "l": [{"x": 1}]},
                   {"a": {"b": 2, "c": 3}, "l": [{"x": 1, "y": 2}], "z": 1}) == {"a": {"b": 2}, "l": [{"x": 1}]}
    assert project({"a": 1}, {}) != {"a": None}  # missing is not null


def test_a_new_source_bundle_is_a_change_and_a_malformed_one_is_refused_before_anything_is_sent():
    plain = desired()
    first = stamp_topology(plain, V06, "ab" * 32)
    assert first["metadata"]["annotations"]["skyforge.labs/source-sha256"] == "ab" * 32
    assert not topology_in_sync(stamp_topology(plain, V06, "cd" * 32), live(first), ME)
    assert topology_in_sync(stamp_topology(plain, V06, "ab" * 32), live(first), ME)
    assert source_digest("") is None and source_digest(None) is None
    for bad in ("AB" * 32, "ab" * 31, "ab" * 32 + "\n", "../bundle.tar.gz", "{{ lookup('pipe', 'id') }}"):
        with pytest.raises(LabError, match="source_sha256 must be the 64 lower-case hex digits"):
            source_digest(bad)
