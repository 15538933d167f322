# -*- coding: utf-8 -*-
"""playbooks/lab_deploy.yml and lab_destroy.yml end to end: real netlab, real c9s_render,
real apiserver with the Clabernetes CRDs. No controller runs, so lab_deploy runs with
wait=false here (readiness waiting is covered where the tests play the controller)."""

import os
import shutil

import pytest
from kubernetes import client

from tests.controlplane.fixtures import GROUPS, REPO_ROOT, run_playbook

pytest_plugins = ["tests.controlplane.fixtures"]
pytestmark = [pytest.mark.controlplane, pytest.mark.slow]


@pytest.mark.parametrize("api_version", sorted(GROUPS))
def test_deploy_then_destroy_the_frr_example(control_plane, admin_api, tmp_path, api_version):
    namespace = "frr-" + api_version.split(".")[0]
    deploy = run_playbook(os.path.join(REPO_ROOT, "playbooks", "lab_deploy.yml"), {
        "topology": os.path.join(REPO_ROOT, "examples", "frr-small", "topology.yml"),
        "output_dir": str(tmp_path / "out"), "namespace": namespace, "api_version": api_version,
        "wait": False, "kubeconfig": control_plane.admin_kubeconfig}, tmp_path, timeout=600)
    assert deploy.returncode == 0, deploy.stdout[-4000:]
    assert "frr-small in %s (%s)" % (namespace, api_version) in deploy.stdout

    core = client.CoreV1Api(admin_api)
    assert core.read_namespace(namespace).metadata.labels["pod-security.kubernetes.io/enforce"] == "privileged"
    cms = core.list_namespaced_config_map(
        namespace, label_selector="skyforge.labs/lab=frr-small,skyforge.labs/component=files").items
    assert cms, "the rendered ConfigMaps were not applied"
    # beside them the lab's inventory (not mounted: the c9s_lab inventory reads it)
    assert core.read_namespaced_config_map("frr-small-inventory", namespace).data["inventory.json"]
    group, version = GROUPS[api_version]
    topology = client.CustomObjectsApi(admin_api).get_namespaced_custom_object(
        group, version, namespace, "topologies", "frr-small")
    mounted = {m["configMapName"] for mounts in topology["spec"]["deployment"]["filesFromConfigMap"].values()
               for m in mounts}
    assert mounted == {cm.metadata.name for cm in cms}

    # again, started elsewhere with every path relative to where it was started (and a stale
    # $PWD, as when a program rather than a shell starts the job): nothing changes
    shutil.copy(control_plane.admin_kubeconfig, str(tmp_path / "kubeconfig"))
    again = run_playbook(os.path.join(REPO_ROOT, "playbooks", "lab_deploy.yml"), {
        "topology": os.path.relpath(os.path.join(REPO_ROOT, "examples", "frr-small", "topology.yml"), str(tmp_path)),
        "output_dir": "out", "namespace": namespace, "api_version": api_version,
        "wait": False, "kubeconfig": "kubeconfig"}, tmp_path, timeout=600, cwd=str(tmp_path), env={"PWD": "/"})
    assert again.returncode == 0, again.stdout[-4000:]
    lab = "skyforge.labs/lab=frr-small"
    objects = len(core.list_namespaced_config_map(namespace, label_selector=lab).items) + len(
        core.list_namespaced_secret(namespace, label_selector=lab).items) + 1   # + the Topology
    assert "created 0, updated 0, unchanged %d, deleted 0" % objects in again.stdout

    by_manifests = run_playbook(os.path.join(REPO_ROOT, "playbooks", "lab_destroy.yml"), {
        "manifests": "out/manifests.yml", "kubeconfig": "kubeconfig"}, tmp_path, cwd=str(tmp_path), env={"PWD": "/"})
    assert by_manifests.returncode == 0, by_manifests.stdout[-4000:]
    assert "changed=1" in by_manifests.stdout

    destroy = run_playbook(os.path.join(REPO_ROOT, "playbooks", "lab_destroy.yml"), {
        "lab_name": "frr-small", "namespace": namespace, "kubeconfig": control_plane.admin_kubeconfig}, tmp_path)
    assert destroy.returncode == 0, destroy.stdout[-4000:]
    assert "changed=0" in destroy.stdout   # already gone: running it again changes nothing
    assert core.list_namespaced_config_map(namespace, label_selector="skyforge.labs/lab=frr-small").items == []
