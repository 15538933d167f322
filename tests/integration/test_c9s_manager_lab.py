# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""c9s_render + c9s_apply through the real Clabernetes manager, per API generation.

The manager reconciles for real; only the kubelet is played by the test (the `kubelet`
fixture writes launcher Deployment status, which is all the controller reads to decide a
node is ready). kube-controller-manager's garbage collector runs, as on a real cluster: it
removes what the controller made for a deleted Topology, which `absent` waits for.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import concurrent.futures
import os
import shutil
import time

import pytest
import yaml

from ansible_collections.skyforge.labs.plugins.module_utils.lab import bundle as bundle_utils
from ansible_collections.skyforge.labs.plugins.module_utils.c9s import service as c9s_apply
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.wait import definition_nodes
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.common.files import atomic_write
from tests.controlplane.manager_fixtures import MULTI_VENDOR

C9S_RUN = "c9s.run/v1alpha1"
CONTROLLER_MANAGER = "clabernetes"  # the field manager the controller writes the Topology with
MODES = {"read": 0o444, "execute": 0o555}  # ConfigMap volume defaultMode per filesFromConfigMap mode


def _params(control_plane, src, **overrides):
    params = dict(src=src, lab_name=None, state="present", namespace=None, create_namespace=False,
                  prune=True, wait=False, wait_timeout=60, api_version="auto", field_manager="skyforge-labs",
                  force_conflicts=False, kubeconfig=control_plane.admin_kubeconfig, context=None, host=None,
                  api_key=None, ca_cert=None, validate_certs=None)
    params.update(overrides)
    return params


def _docs(path):
    with open(path) as handle:
        return [d for d in yaml.safe_load_all(handle) if d]


def _topology_doc(path):
    return [d for d in _docs(path) if d["kind"] == "Topology"][0]


def _get_topology(admin_api, mgr, namespace, name):
    from kubernetes import client

    group, version = mgr.api_version.split("/")
    return client.CustomObjectsApi(admin_api).get_namespaced_custom_object(
        group, version, namespace, "topologies", name)


def _our_mounts(deployment, our_configmaps):
    """{(mountPath, ConfigMap, key, defaultMode)} of the launcher's mounts of our ConfigMaps."""
    spec = deployment.spec.template.spec
    volumes = {v.name: v.config_map for v in spec.volumes or [] if v.config_map is not None}
    out = set()
    for container in spec.containers:
        for mount in container.volume_mounts or []:
            source = volumes.get(mount.name)
            if source is not None and source.name in our_configmaps:
                out.add((mount.mount_path, source.name, mount.sub_path, source.default_mode))
    return out


def _promised(render_result, node):
    return {("/clabernetes/" + m["filePath"], m["configMapName"], m["configMapPath"], MODES[m["mode"]])
            for m in render_result["mounts"].get(node, [])}


def _configmap_bytes(core, namespace, name, key):
    cm = core.read_namespaced_config_map(name, namespace)
    if cm.data and key in cm.data:
        return cm.data[key].encode("utf-8")
    return base64.b64decode(cm.binary_data[key])


def _ready_lab(control_plane, kubelet, c9s_lab):
    """Apply the multi-vendor lab with the kubelet stand-in running; wait until ready."""
    kubelet.run(boot=1.0)
    src, rendered = c9s_lab()
    result = c9s_apply.run(_params(control_plane, src, wait=True, wait_timeout=60))
    assert result["readiness"]["ready"]
    return src, rendered, definition_nodes(_topology_doc(src))


def test_rendered_lab_becomes_one_launcher_per_node_mounting_exactly_our_files(
        control_plane, admin_api, c9s_manager, c9s_namespace, kubelet, c9s_lab):
    from kubernetes import client

    offset = c9s_manager.log_offset()
    src, rendered = c9s_lab()
    result = c9s_apply.run(_params(control_plane, src))
    assert result["api_version"] == c9s_manager.api_version
    topology = _topology_doc(src)
    nodes = definition_nodes(topology)
    assert nodes == ["c1", "h1", "r1", "r2", "r3"]
    deployments = kubelet.wait_deployments(nodes, topology["metadata"]["name"])
    assert sorted(deployments) == nodes  # one launcher per node, nothing else
    assert c9s_manager.definition_errors(offset) == []

    ours = {d["metadata"]["name"] for d in _docs(src) if d["kind"] == "ConfigMap"}
    for node, deployment in deployments.items():
        assert _our_mounts(deployment, ours) == _promised(rendered, node), node

    # byte-level: follow the Deployment's volume to the ConfigMap and compare with the lab files
    files = bundle_utils.read_bundle(c9s_lab.bundle(MULTI_VENDOR))
    core = client.CoreV1Api(admin_api)
    checked = 0
    for node, path in (("c1", "configs/c1.cfg"), ("h1", "files/motd.txt"), ("h1", "h1/issue.net"),
                       ("r1", "node_files/r1/ospf")):
        (mount,) = [m for m in _our_mounts(deployments[node], ours) if m[0] == "/clabernetes/" + path]
        assert _configmap_bytes(core, c9s_namespace, mount[1], mount[2]) == files[path][0]
        assert (mount[3] == MODES["execute"]) == bool(files[path][1] & 0o111)
        checked += 1
    assert checked == 4


def test_wait_returns_only_when_the_controller_reports_every_launcher_ready(
        control_plane, admin_api, c9s_manager, c9s_namespace, kubelet, c9s_lab):
    src, _rendered = c9s_lab()
    topology = _topology_doc(src)
    name, nodes = topology["metadata"]["name"], definition_nodes(topology)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(c9s_apply.run, _params(control_plane, src, wait=True, wait_timeout=90))
        kubelet.wait_deployments(nodes)
        time.sleep(2)
        assert not waiting.done()
        kubelet.mark_nodes({n: n != "r3" for n in nodes})
        deadline = time.monotonic() + 30
        while True:  # the controller sees the four ready launchers...
            status = _get_topology(admin_api, c9s_manager, c9s_namespace, name).get("status") or {}
            if c9s_manager.api_version == C9S_RUN:
                if status.get("readyNodeCount") == len(nodes) - 1:
                    break
            elif sum(v == "ready" for v in (status.get("nodeReadiness") or {}).values()) == len(nodes) - 1:
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
        time.sleep(2)
        assert not waiting.done()  # ...and the client keeps waiting for the fifth
        kubelet.mark_nodes({"r3": True})
        result = waiting.result(timeout=60)
    readiness = result["readiness"]
    assert readiness["ready"] and readiness["ready_nodes"] == readiness["total_nodes"] == len(nodes)
    obj = _get_topology(admin_api, c9s_manager, c9s_namespace, name)
    writers = {e["manager"] for e in obj["metadata"]["managedFields"] if "f:status" in (e.get("fieldsV1") or {})}
    assert writers == {CONTROLLER_MANAGER}  # the status we trusted is the controller's own
    assert obj["status"]["topologyReady"] is True
    if c9s_manager.api_version != C9S_RUN:
        assert readiness["nodes"] == obj["status"]["nodeReadiness"] == {n: "ready" for n in nodes}


def test_a_node_that_stays_not_ready_is_named_in_the_timeout(
        control_plane, c9s_manager, c9s_namespace, kubelet, c9s_lab):
    kubelet.run(boot=0.5, hold={"r2"})
    src, _rendered = c9s_lab()
    with pytest.raises(LabError) as info:
        c9s_apply.run(_params(control_plane, src, wait=True, wait_timeout=15))
    message = str(info.value)
    assert "not ready after 15s" in message
    assert "4/5 nodes ready" in message
    # v0.6: the Topology's nodeReadiness; v0.8: the c9s.run Node objects' status.readiness
    assert "r2=notready" in message and "r1=ready" in message
    assert "r2 ready 0/1" in message  # the launcher Deployment line names it too


def _changed_copy(c9s_lab, tmp_path, text):
    """The multi-vendor lab with c1's startup configuration changed."""
    lab = str(tmp_path / "lab-v2")
    shutil.rmtree(lab, ignore_errors=True)
    for relpath, (data, mode) in bundle_utils.read_bundle(c9s_lab.bundle(MULTI_VENDOR)).items():
        atomic_write(os.path.join(lab, relpath), data, mode)
    with open(os.path.join(lab, "configs", "c1.cfg"), "a") as handle:
        handle.write(text)
    return lab


def test_a_change_after_ready_is_not_ready_until_the_controller_processed_it(
        control_plane, admin_api, c9s_manager, c9s_namespace, kubelet, c9s_lab, tmp_path):
    src, _rendered, nodes = _ready_lab(control_plane, kubelet, c9s_lab)
    name = _topology_doc(src)["metadata"]["name"]
    changed = c9s_lab(src=_changed_copy(c9s_lab, tmp_path, "! changed after ready\n"))[0]
    c9s_manager.pause()
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(c9s_apply.run, _params(control_plane, changed, wait=True, wait_timeout=60))
            time.sleep(5)
            stale = _get_topology(admin_api, c9s_manager, c9s_namespace, name)["status"]
            assert stale["topologyReady"] is True  # what a naive client would trust
            assert not waiting.done()
            c9s_manager.resume()
            result = waiting.result(timeout=60)
    finally:
        c9s_manager.resume()
    assert result["readiness"]["ready"]
    obj = _get_topology(admin_api, c9s_manager, c9s_namespace, name)
    applied = [e for e in obj["metadata"]["managedFields"] if e["manager"] == "skyforge-labs"]
    assert applied and obj["metadata"]["generation"] > 1


def test_content_change_reaches_the_launchers_and_old_configmaps_are_pruned(
        control_plane, admin_api, c9s_manager, c9s_namespace, kubelet, c9s_lab, tmp_path):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    src, rendered, nodes = _ready_lab(control_plane, kubelet, c9s_lab)
    old = {d["metadata"]["name"] for d in _docs(src) if d["kind"] == "ConfigMap"}
    changed, rendered2 = c9s_lab(src=_changed_copy(c9s_lab, tmp_path, "! new content\n"))
    new = {d["metadata"]["name"] for d in _docs(changed) if d["kind"] == "ConfigMap"}
    assert new != old
    result = c9s_apply.run(_params(control_plane, changed))
    deleted = {o["name"] for o in result["objects"] if o["kind"] == "ConfigMap" and o["action"] == "deleted"}
    assert deleted == old - new

    def rolled(found):
        return all(_our_mounts(found[n], new | old) == _promised(rendered2, n) for n in nodes)

    deployments = kubelet.wait_deployments(nodes, check=rolled, timeout=60)
    assert not any(m[1] in old - new for d in deployments.values() for m in _our_mounts(d, old))
    core = client.CoreV1Api(admin_api)
    for name in old - new:
        with pytest.raises(ApiException) as info:
            core.read_namespaced_config_map(name, c9s_namespace)
        assert info.value.status == 404


def _namespaced_kinds(admin_api, group):
    """(api path, plural) of every listable namespaced resource of the controller's API group,
    from discovery (so a kind this test does not know about is checked too)."""
    from kubernetes import client

    resources = client.CustomObjectsApi(admin_api).get_api_resources(group, "v1alpha1").resources
    return [("/apis/%s/v1alpha1" % group, r.name) for r in resources
            if r.namespaced and "/" not in r.name and "list" in r.verbs]


def lab_leftovers(admin_api, mgr, namespace, name, uids=()):
    """'Kind/name' of everything in the namespace that belongs to lab `name`: our labels, the
    controller's owner label, or an ownerReference to one of `uids`."""
    from ansible_collections.skyforge.labs.plugins.module_utils.k8s.client import Api

    api = Api(admin_api)
    core = ("configmaps", "services", "pods", "persistentvolumeclaims", "secrets", "endpoints")
    kinds = [("/api/v1", p) for p in core]
    kinds += [("/apis/apps/v1", p) for p in ("deployments", "replicasets")]
    kinds += _namespaced_kinds(admin_api, mgr.group)
    found = []
    for base, plural in kinds:
        items = api.request("GET", "%s/namespaces/%s/%s" % (base, namespace, plural)).get("items") or []
        for item in items:
            meta = item["metadata"]
            labels = meta.get("labels") or {}
            if labels.get(mgr.owner_label) == name or labels.get("skyforge.labs/lab") == name or any(
                    o.get("uid") in uids for o in meta.get("ownerReferences") or []):
                found.append("%s/%s" % (item.get("kind") or plural, meta["name"]))
    return sorted(found)


def test_absent_leaves_nothing_of_the_lab_and_reports_what_went(
        control_plane, admin_api, c9s_manager, c9s_namespace, kubelet, c9s_lab):
    from kubernetes import client

    src, _rendered = c9s_lab()
    c9s_apply.run(_params(control_plane, src))
    topology = _topology_doc(src)
    name, nodes = topology["metadata"]["name"], definition_nodes(topology)
    kubelet.wait_deployments(nodes)
    uid = _get_topology(admin_api, c9s_manager, c9s_namespace, name)["metadata"]["uid"]
    made = {d.metadata.name for d in kubelet.deployments(name).values()}
    before = lab_leftovers(admin_api, c9s_manager, c9s_namespace, name, {uid})
    assert before and all(d in " ".join(before) for d in made)  # the check sees the lab
    offset = c9s_manager.log_offset()

    started = time.monotonic()
    result = c9s_apply.run(_params(control_plane, src, state="absent", wait_timeout=120))
    # absent returns only once nothing of the lab is left: no Topology, none of our ConfigMaps,
    # and nothing the controller made for it (the garbage collector removes those)
    assert lab_leftovers(admin_api, c9s_manager, c9s_namespace, name, {uid}) == []
    assert result["changed"]
    ours = {(o["kind"], o["action"]) for o in result["objects"] if "by" not in o}
    # the multi-vendor lab carries netlab's credentials: its Secret goes with the ConfigMaps
    assert ours == {("Topology", "deleted"), ("ConfigMap", "deleted"), ("Secret", "deleted")}
    assert not client.CoreV1Api(admin_api).list_namespaced_secret(
        c9s_namespace, label_selector="skyforge.labs/lab=%s" % name).items
    collected = {(o["kind"], o["name"]) for o in result["objects"] if o.get("by") == "garbage collector"}
    assert {("Deployment", d) for d in made} <= collected
    expected_kinds = {"Deployment", "Service"} | (
        {"Node", "Link", "LauncherProfile"} if c9s_manager.api_version == C9S_RUN else {"Connectivity"})
    assert expected_kinds <= {kind for kind, _name in collected}, collected
    assert time.monotonic() - started < 120
    again = c9s_apply.run(_params(control_plane, src, state="absent"))
    assert again["changed"] is False and again["objects"] == []
    assert c9s_manager.definition_errors(offset) == []


@pytest.fixture(scope="module")
def lan_topology(tmp_path_factory):
    """Three routers on one multi-access LAN: netlab models it as a containerlab `bridge` node."""
    path = tmp_path_factory.mktemp("lan") / "topology.yml"
    path.write_text("name: lan\ndefaults.device: frr\nnodes: [a, b, c]\nlinks:\n- a-b\n- [a, b, c]\n")
    return str(path)


def test_bridge_node_behaves_as_documented(
        control_plane, c9s_manager, c9s_namespace, kubelet, c9s_lab, lan_topology):
    offset = c9s_manager.log_offset()
    src, rendered = c9s_lab(topology=lan_topology)
    topology = _topology_doc(src)
    nodes = definition_nodes(topology)
    (bridge,) = [n for n in nodes if n not in ("a", "b", "c")]
    assert yaml.safe_load(topology["spec"]["definition"]["containerlab"])["topology"]["nodes"][bridge]["kind"] == "bridge"
    if c9s_manager.api_version == C9S_RUN:
        # documented: v0.8 rejects kind bridge; c9s_render warned, the controller refuses it
        assert any("bridge" in w for w in rendered["warnings"])
        c9s_apply.run(_params(control_plane, src))
        deadline = time.monotonic() + 30
        while not c9s_manager.critical_lines(offset) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert any("bridge" in line for line in c9s_manager.critical_lines(offset))
        with pytest.raises(LabError):
            c9s_apply.run(_params(control_plane, src, wait=True, wait_timeout=10))
        return
    # v0.6 accepts it: the bridge becomes a launcher of its own, like any node
    assert not any("bridge" in w for w in rendered["warnings"])
    kubelet.run(boot=0.5)
    result = c9s_apply.run(_params(control_plane, src, wait=True, wait_timeout=60))
    assert result["readiness"]["ready"] and result["readiness"]["nodes"][bridge] == "ready"
    assert sorted(kubelet.deployments(topology["metadata"]["name"])) == nodes
    assert c9s_manager.definition_errors(offset) == []


def test_a_definition_the_controller_cannot_parse_shows_in_its_log_only(
        control_plane, admin_api, c9s_manager, c9s_namespace, c9s_lab):
    """What `definition_errors` looks for is real: a broken definition is logged, and the
    Topology itself gets no launcher; so the other tests' empty lists mean something."""
    from kubernetes import client

    offset = c9s_manager.log_offset()
    src, _rendered = c9s_lab()
    topology = _topology_doc(src)
    topology["metadata"]["name"] = "broken"
    topology["spec"]["definition"]["containerlab"] = "name: broken\ntopology: [nodes\n"
    group, version = c9s_manager.api_version.split("/")
    client.CustomObjectsApi(admin_api).create_namespaced_custom_object(
        group, version, c9s_namespace, "topologies", topology)
    deadline = time.monotonic() + 30
    while not c9s_manager.definition_errors(offset):
        assert time.monotonic() < deadline, c9s_manager.log_text(offset)[-3000:]
        time.sleep(0.5)
    assert client.AppsV1Api(admin_api).list_namespaced_deployment(c9s_namespace).items == []
