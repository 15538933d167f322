# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Clabernetes v0.7+ (c9s.run) changed, through the real v0.8 controller.

The Topology compiles into a LauncherProfile, one Node per node and one Link per wire; Nodes
become launcher Deployments named after the node alone (spec.naming is ignored) and labelled
c9s.run/...; node names therefore collide across labs in one namespace.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

from ansible_collections.skyforge.labs.plugins.module_utils.c9s import service as c9s_apply
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.wait import definition_nodes
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from tests.controlplane.fixtures import lab_manifests, write_manifests
from tests.integration.test_c9s_manager_lab import _docs, _get_topology, _params, _topology_doc
from tests.integration.test_c9s_manager_race import _until

pytestmark = pytest.mark.parametrize("c9s_manager", ["v0.8"], indirect=True)


def _c9s(admin_api, namespace, plural):
    from kubernetes import client

    items = client.CustomObjectsApi(admin_api).list_namespaced_custom_object(
        "c9s.run", "v1alpha1", namespace, plural)["items"]
    return {item["metadata"]["name"]: item for item in items}


def test_the_topology_compiles_into_nodes_links_and_a_launcher_profile_we_can_follow(
        control_plane, admin_api, c9s_manager, c9s_namespace, kubelet, c9s_lab):
    src, rendered = c9s_lab()
    c9s_apply.run(_params(control_plane, src))
    topology = _topology_doc(src)
    name, nodes = topology["metadata"]["name"], definition_nodes(topology)
    deployments = kubelet.wait_deployments(nodes, name)
    live = _get_topology(admin_api, c9s_manager, c9s_namespace, name)
    uid = live["metadata"]["uid"]
    clab = yaml.safe_load(topology["spec"]["definition"]["containerlab"])

    node_objects = _c9s(admin_api, c9s_namespace, "nodes")
    assert sorted(node_objects) == nodes  # one Node per containerlab node, named after it
    profiles = _c9s(admin_api, c9s_namespace, "launcherprofiles")
    assert sorted(profiles) == [name]  # one shared profile, named after the Topology
    assert profiles[name]["spec"]["statusProbes"]["enabled"] is topology["spec"]["statusProbes"]["enabled"] is False
    links = _until(lambda: _c9s(admin_api, c9s_namespace, "links"), "the Links", 60)
    assert len(links) == len(clab["topology"]["links"])
    for obj in list(node_objects.values()) + list(links.values()) + list(profiles.values()):
        meta = obj["metadata"]
        assert meta["labels"]["c9s.run/topologyOwner"] == name
        assert [(o["kind"], o["uid"], o.get("controller")) for o in meta["ownerReferences"]] == [
            ("Topology", uid, True)]  # what the garbage collector follows after `absent`
    for node, obj in node_objects.items():
        # the mounts we rendered reach the Node unchanged, and its Deployment carries them
        assert obj["spec"].get("filesFromConfigMap", []) == rendered["mounts"].get(node, []), node
        assert obj["spec"]["launcherProfileRef"] == {"name": name}
        deployment = deployments[node]
        assert deployment.metadata.name == node  # spec.naming is ignored: plain node names
        assert [(o.kind, o.name) for o in deployment.metadata.owner_references] == [("Node", node)]
        keys = set(deployment.metadata.labels)
        assert {"c9s.run/topologyOwner", "c9s.run/topologyNode"} <= keys
        assert not [k for k in keys if k.startswith("clabernetes/")]  # the old prefix is gone
    status = _until(lambda: (_get_topology(admin_api, c9s_manager, c9s_namespace, name).get("status") or {}).get(
        "nodeCount"), "the Topology status", 60)
    assert status == len(nodes)


def test_a_node_dropped_from_the_lab_is_pruned_by_the_controller_and_collected(
        control_plane, admin_api, c9s_manager, c9s_namespace, kubelet, tmp_path):
    src = write_manifests(tmp_path / "v1.yml", lab_manifests("pruned", c9s_namespace, nodes=("r1", "r2")))
    c9s_apply.run(_params(control_plane, src))
    kubelet.wait_deployments(["r1", "r2"], "pruned")
    src = write_manifests(tmp_path / "v2.yml", lab_manifests("pruned", c9s_namespace, nodes=("r1",)))
    result = c9s_apply.run(_params(control_plane, src))
    assert ("Topology", "updated") in [(o["kind"], o["action"]) for o in result["objects"]]
    # the controller prunes the Node it no longer compiles; the garbage collector its Deployment
    _until(lambda: "r2" not in _c9s(admin_api, c9s_namespace, "nodes"), "Node r2 pruned", 60)
    _until(lambda: sorted(kubelet.deployments("pruned")) == ["r1"], "Deployment r2 collected", 60)
    assert sorted(_c9s(admin_api, c9s_namespace, "nodes")) == ["r1"]


def test_a_node_name_another_lab_holds_in_the_namespace_is_refused_before_anything_is_applied(
        control_plane, admin_api, c9s_manager, c9s_namespace, kubelet, tmp_path):
    from kubernetes import client

    first = write_manifests(tmp_path / "alpha.yml", lab_manifests("alpha", c9s_namespace, nodes=("r1", "r2")))
    c9s_apply.run(_params(control_plane, first))
    kubelet.wait_deployments(["r1", "r2"], "alpha")
    second = write_manifests(tmp_path / "beta.yml", lab_manifests(
        "beta", c9s_namespace, nodes=("r2", "r3"), files={"beta-files": {"f": "x\n"}}))

    with pytest.raises(LabError) as info:
        c9s_apply.run(_params(control_plane, second))
    message = str(info.value)
    assert "already has Clabernetes Nodes named r2" in message and "r2 belongs to Topology alpha" in message
    assert "spec.naming is ignored" in message and "another namespace or rename" in message
    core = client.CoreV1Api(admin_api)
    assert core.list_namespaced_config_map(c9s_namespace, label_selector="skyforge.labs/lab=beta").items == []
    assert "beta" not in {t["metadata"]["name"] for t in client.CustomObjectsApi(admin_api).list_namespaced_custom_object(
        "c9s.run", "v1alpha1", c9s_namespace, "topologies")["items"]}

    # what the refusal spares the user: the controller cannot create Node r2 for beta, says so
    # only in its log, and beta never gets that launcher (nor, in its sorted pass, r3)
    offset = c9s_manager.log_offset()
    topology = [d for d in _docs(second) if d["kind"] == "Topology"][0]
    client.CustomObjectsApi(admin_api).create_namespaced_custom_object(
        "c9s.run", "v1alpha1", c9s_namespace, "topologies", topology)
    _until(lambda: [line for line in c9s_manager.critical_lines(offset) if "r2" in line and "already exists" in line],
           "the controller's complaint", 60)
    nodes = _c9s(admin_api, c9s_namespace, "nodes")
    assert nodes["r2"]["metadata"]["labels"]["c9s.run/topologyOwner"] == "alpha"
    assert "r3" not in nodes


def test_prefixed_naming_is_reported_as_having_no_effect(c9s_manager, c9s_lab):
    _src, rendered = c9s_lab(naming="prefixed")
    (warning,) = [w for w in rendered["warnings"] if "naming 'prefixed'" in w]
    assert "named after the node alone (c1, h1, r1, r2, r3)" in warning
