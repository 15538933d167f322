# -*- coding: utf-8 -*-
"""c9s_apply against a real etcd + kube-apiserver with the real Clabernetes CRDs.

Every test gets its own namespace and checks the outcome through the API, not only the module's result.
"""

import uuid

import pytest
from kubernetes import client

from ansible_collections.skyforge.labs.plugins.module_utils.c9s.service import run
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from tests.controlplane.cluster import ControlPlane
from tests.controlplane.fixtures import GROUPS, apply_params, lab_manifests, write_manifests

pytest_plugins = ["tests.controlplane.fixtures"]
pytestmark = pytest.mark.controlplane

API_VERSIONS = sorted(GROUPS)


def configmaps(admin_api, namespace):
    items = client.CoreV1Api(admin_api).list_namespaced_config_map(namespace).items
    return {cm.metadata.name: cm.data for cm in items if cm.metadata.name != "kube-root-ca.crt"}


def topologies(admin_api, namespace, api_version):
    group, version = GROUPS[api_version]
    data = client.CustomObjectsApi(admin_api).list_namespaced_custom_object(group, version, namespace, "topologies")
    return {t["metadata"]["name"]: t for t in data["items"]}


def actions(result):
    return [(o["kind"], o["name"], o["action"]) for o in result["objects"]]


@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_create_reapply_change_prune_and_absent_twice(control_plane, admin_api, namespace, tmp_path, api_version):
    src = write_manifests(tmp_path / "lab.yml", lab_manifests(
        "demo", namespace, api_version, files={"demo-a1": {"initial": "v1\n"}, "demo-b1": {"daemons": "ospfd\n"}}))
    params = apply_params(control_plane.admin_kubeconfig, src=src)

    created = run(params)
    assert created["changed"] and created["api_version"] == api_version
    assert actions(created) == [("ConfigMap", "demo-a1", "created"), ("ConfigMap", "demo-b1", "created"),
                                ("Topology", "demo", "created")]
    assert configmaps(admin_api, namespace) == {"demo-a1": {"initial": "v1\n"}, "demo-b1": {"daemons": "ospfd\n"}}
    topology = topologies(admin_api, namespace, api_version)["demo"]
    assert "status" not in topology
    assert topology["spec"]["deployment"]["filesFromConfigMap"]["r1"][0]["configMapName"] == "demo-a1"

    again = run(params)
    assert not again["changed"]
    assert {a for _k, _n, a in actions(again)} == {"unchanged"}

    # new content, new content-addressed names: the old ConfigMap goes, only after the Topology
    write_manifests(tmp_path / "lab.yml", lab_manifests(
        "demo", namespace, api_version, files={"demo-a2": {"initial": "v2\n"}, "demo-b1": {"daemons": "ospfd\n"}}))
    changed = run(params)
    assert actions(changed) == [("ConfigMap", "demo-a2", "created"), ("ConfigMap", "demo-b1", "unchanged"),
                                ("Topology", "demo", "updated"), ("ConfigMap", "demo-a1", "deleted")]
    assert configmaps(admin_api, namespace) == {"demo-a2": {"initial": "v2\n"}, "demo-b1": {"daemons": "ospfd\n"}}
    mounts = topologies(admin_api, namespace, api_version)["demo"]["spec"]["deployment"]["filesFromConfigMap"]
    assert {m["configMapName"] for m in mounts["r1"]} == {"demo-a2", "demo-b1"}

    gone = run(dict(params, state="absent"))
    assert gone["changed"]
    assert sorted(actions(gone)) == [("ConfigMap", "demo-a2", "deleted"), ("ConfigMap", "demo-b1", "deleted"),
                                     ("Topology", "demo", "deleted")]
    assert configmaps(admin_api, namespace) == {} and topologies(admin_api, namespace, api_version) == {}
    second = run(dict(params, state="absent"))
    assert not second["changed"] and second["objects"] == []


def test_prune_false_keeps_old_configmaps(control_plane, admin_api, namespace, tmp_path):
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace, files={"demo-a1": {"f": "1"}}))
    run(apply_params(control_plane.admin_kubeconfig, src=src))
    write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace, files={"demo-a2": {"f": "2"}}))
    result = run(apply_params(control_plane.admin_kubeconfig, src=src, prune=False))
    assert ("ConfigMap", "demo-a1", "deleted") not in actions(result)
    assert set(configmaps(admin_api, namespace)) == {"demo-a1", "demo-a2"}


def test_prune_leaves_other_labs_and_unlabelled_objects(control_plane, admin_api, namespace, tmp_path):
    core = client.CoreV1Api(admin_api)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "not-ours"}, "data": {"x": "1"}})
    other = write_manifests(tmp_path / "other.yml", lab_manifests("other", namespace, files={"other-a": {"f": "o"}}))
    run(apply_params(control_plane.admin_kubeconfig, src=other))
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace, files={"demo-a1": {"f": "1"}}))
    run(apply_params(control_plane.admin_kubeconfig, src=src))
    write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace, files={"demo-a2": {"f": "2"}}))
    run(apply_params(control_plane.admin_kubeconfig, src=src))
    run(apply_params(control_plane.admin_kubeconfig, lab_name="demo", namespace=namespace, state="absent"))
    assert set(configmaps(admin_api, namespace)) == {"not-ours", "other-a"}
    assert set(topologies(admin_api, namespace, "c9s.run/v1alpha1")) == {"other"}


def test_check_mode_changes_nothing_and_reports_the_diff(control_plane, admin_api, namespace, tmp_path):
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace, files={"demo-a1": {"f": "1"}}))
    params = apply_params(control_plane.admin_kubeconfig, src=src)

    would = run(params, check_mode=True)
    assert would["changed"]
    assert actions(would) == [("ConfigMap", "demo-a1", "created"), ("Topology", "demo", "created")]
    assert configmaps(admin_api, namespace) == {} and topologies(admin_api, namespace, "c9s.run/v1alpha1") == {}

    run(params)
    before = topologies(admin_api, namespace, "c9s.run/v1alpha1")["demo"]["metadata"]["resourceVersion"]
    write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace, files={"demo-a2": {"f": "2"}}))
    would = run(params, check_mode=True)
    assert actions(would) == [("ConfigMap", "demo-a2", "created"), ("Topology", "demo", "updated"),
                              ("ConfigMap", "demo-a1", "deleted")]
    topo_diff = [d for d in would["diff"] if d["before_header"] == "Topology/demo"][0]
    assert "demo-a1" in str(topo_diff["before"]["spec"]) and "demo-a2" in str(topo_diff["after"]["spec"])
    assert configmaps(admin_api, namespace) == {"demo-a1": {"f": "1"}}
    assert topologies(admin_api, namespace, "c9s.run/v1alpha1")["demo"]["metadata"]["resourceVersion"] == before

    gone = run(dict(params, state="absent"), check_mode=True)
    assert gone["changed"] and len(gone["objects"]) == 2
    assert configmaps(admin_api, namespace) == {"demo-a1": {"f": "1"}}


def test_check_mode_with_a_namespace_that_does_not_exist_yet(control_plane, admin_api, tmp_path):
    namespace = "never-created-" + uuid.uuid4().hex[:8]
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace))
    result = run(apply_params(control_plane.admin_kubeconfig, src=src, create_namespace=True), check_mode=True)
    assert ("Namespace", namespace, "created") in actions(result)
    names = [ns.metadata.name for ns in client.CoreV1Api(admin_api).list_namespace().items]
    assert namespace not in names


def test_create_namespace_sets_the_pod_security_label(control_plane, admin_api, tmp_path):
    namespace = "created-" + uuid.uuid4().hex[:8]
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace))
    params = apply_params(control_plane.admin_kubeconfig, src=src, create_namespace=True)
    assert ("Namespace", namespace, "created") in actions(run(params))
    labels = client.CoreV1Api(admin_api).read_namespace(namespace).metadata.labels
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    assert not run(params)["changed"]


def test_conflicting_field_manager_then_force_conflicts(control_plane, admin_api, namespace, tmp_path):
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace, files={"demo-a1": {"f": "ours"}}))
    params = apply_params(control_plane.admin_kubeconfig, src=src)
    run(params)
    # someone else takes over data.f with their own server-side apply
    client.CoreV1Api(admin_api).patch_namespaced_config_map(
        "demo-a1", namespace, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "demo-a1"},
                               "data": {"f": "theirs"}},
        field_manager="someone-else", force=True, _content_type="application/apply-patch+yaml")

    with pytest.raises(LabError) as err:
        run(params)
    message = str(err.value)
    assert "someone-else" in message and ".data.f" in message and "force_conflicts" in message
    assert "ConfigMap/demo-a1" in message

    fixed = run(dict(params, force_conflicts=True))
    assert ("ConfigMap", "demo-a1", "updated") in actions(fixed)
    assert configmaps(admin_api, namespace)["demo-a1"] == {"f": "ours"}


def test_schema_rejection_names_the_object_and_field(control_plane, admin_api, namespace, tmp_path):
    objects = lab_manifests("demo", namespace)
    objects[-1]["spec"]["deployment"]["filesFromConfigMap"]["r1"][0]["mode"] = "write"
    src = write_manifests(tmp_path / "lab.yml", objects)
    with pytest.raises(LabError) as err:
        run(apply_params(control_plane.admin_kubeconfig, src=src))
    message = str(err.value)
    assert "Topology/demo" in message and "422" in message
    assert "spec.deployment.filesFromConfigMap.r1[0].mode" in message
    # the new Topology was not accepted, so nothing was pruned or left half-applied beyond the files
    assert topologies(admin_api, namespace, "c9s.run/v1alpha1") == {}


def test_unreachable_cluster(tmp_path):
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", "ns1"))
    with pytest.raises(LabError) as err:
        run(apply_params(None, src=src, host="https://127.0.0.1:9", api_key="x", validate_certs=False))
    assert "cannot reach the Kubernetes API at https://127.0.0.1:9" in str(err.value)


def test_wrong_token_is_a_clear_401(control_plane, tmp_path):
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", "ns1"))
    with pytest.raises(LabError) as err:
        run(apply_params(None, src=src, host=control_plane.server, api_key="wrong",
                         ca_cert=control_plane.ca_file))
    assert "401" in str(err.value) and "api_key" in str(err.value)


def test_untrusted_certificate_points_at_ca_cert(control_plane, tmp_path):
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", "ns1"))
    with pytest.raises(LabError) as err:
        run(apply_params(None, src=src, host=control_plane.server, api_key=control_plane.admin_token))
    assert "TLS verification" in str(err.value) and "ca_cert" in str(err.value)


def test_auto_prefers_the_rendered_api_and_explicit_choice_is_used(control_plane, admin_api, namespace, tmp_path):
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace, "clabernetes.containerlab.dev/v1alpha1"))
    result = run(apply_params(control_plane.admin_kubeconfig, src=src))
    assert result["api_version"] == "clabernetes.containerlab.dev/v1alpha1"
    assert set(topologies(admin_api, namespace, "clabernetes.containerlab.dev/v1alpha1")) == {"demo"}
    assert topologies(admin_api, namespace, "c9s.run/v1alpha1") == {}


@pytest.fixture(scope="module")
def bare_control_plane():
    """A second apiserver without any Clabernetes CRD installed."""
    cp = ControlPlane().start()
    yield cp
    cp.stop()


def test_no_clabernetes_api_names_both_groups(control_plane, bare_control_plane, tmp_path):
    bare_control_plane.create_namespace("lab")
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", "lab"))
    with pytest.raises(LabError) as err:
        run(apply_params(bare_control_plane.admin_kubeconfig, src=src))
    message = str(err.value)
    assert "c9s.run/v1alpha1" in message and "clabernetes.containerlab.dev/v1alpha1" in message
    with pytest.raises(LabError) as err:
        run(apply_params(bare_control_plane.admin_kubeconfig, src=src, api_version="c9s.run/v1alpha1"))
    assert "does not serve Topology c9s.run/v1alpha1" in str(err.value)


@pytest.mark.parametrize("content, expected", [
    (b"\xff\xfe not utf-8", "not UTF-8"),
    (b"a: [unclosed", "not valid YAML"),
    (b"apiVersion: v1\nkind: Pod\nmetadata: {name: s}\n", "unexpected v1 Pod"),  # a Secret is a lab's credentials
    (b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: n}\n", "exactly one"),
])
def test_bad_manifests_fail_before_any_request(tmp_path, content, expected):
    path = tmp_path / "bad.yml"
    path.write_bytes(content)
    with pytest.raises(LabError) as err:
        run(apply_params(None, src=str(path), host="https://127.0.0.1:9", api_key="x"))
    assert expected in str(err.value)


def test_unlabelled_objects_are_refused(tmp_path):
    objects = lab_manifests("demo", "ns1")
    del objects[0]["metadata"]["labels"]["skyforge.labs/lab"]
    src = write_manifests(tmp_path / "lab.yml", objects)
    with pytest.raises(LabError) as err:
        run(apply_params(None, src=src, host="https://127.0.0.1:9", api_key="x"))
    assert "skyforge.labs/lab=demo" in str(err.value) and "c9s_render" in str(err.value)


def test_a_spec_edit_by_someone_else_is_not_mistaken_for_unchanged(control_plane, admin_api, namespace, tmp_path):
    """The re-apply shortcut (digest annotation) must still notice drift in the Topology."""
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace))
    params = apply_params(control_plane.admin_kubeconfig, src=src)
    run(params)
    group, version = GROUPS["c9s.run/v1alpha1"]
    client.CustomObjectsApi(admin_api).patch_namespaced_custom_object(
        group, version, namespace, "topologies", "demo", {"spec": {"statusProbes": {"enabled": True}}},
        field_manager="kubectl-edit")
    with pytest.raises(LabError) as err:
        run(params)
    assert "kubectl-edit owns .spec.statusProbes.enabled" in str(err.value)
    assert ("Topology", "demo", "updated") in actions(run(dict(params, force_conflicts=True)))
    live = topologies(admin_api, namespace, "c9s.run/v1alpha1")["demo"]
    assert live["spec"]["statusProbes"]["enabled"] is False
    assert not run(params)["changed"]


def test_an_unknown_field_is_rejected_not_silently_dropped(control_plane, admin_api, namespace, tmp_path):
    objects = lab_manifests("demo", namespace)
    objects[-1]["spec"]["deployment"]["filesFromConfigMapp"] = {}
    src = write_manifests(tmp_path / "lab.yml", objects)
    with pytest.raises(LabError) as err:
        run(apply_params(control_plane.admin_kubeconfig, src=src))
    assert "rejected Topology/demo" in str(err.value)
    assert ".spec.deployment.filesFromConfigMapp: field not declared in schema" in str(err.value)
    assert topologies(admin_api, namespace, "c9s.run/v1alpha1") == {}
