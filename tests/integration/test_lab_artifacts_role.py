"""Role lab_artifacts: a lab's files into file:// and s3:// stores; launcher pod logs from a
real kube-apiserver."""

import os

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.artifacts import store as artifacts
from ansible_collections.skyforge.labs.plugins.module_utils.k8s import client as k8s
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.logs import collect_pod_logs
from tests.controlplane.fixtures import (  # noqa: F401 pylint: disable=unused-import
    admin_api, admin_kubeconfig, control_plane, namespace,
)
from tests.servers.playbook import run_playbook
from tests.servers.s3 import S3Server

pytestmark = pytest.mark.slow
STORE_TASKS = ("Store the lab bundle", "Store the rendered manifests", "Store the netlab outputs")


def make_lab(tmp_path):
    work = tmp_path / "lab"
    (work / "node_files" / "r1").mkdir(parents=True)
    (work / "clab.yml").write_text("name: lab1\ntopology:\n  nodes:\n    r1: {kind: linux}\n")
    (work / "node_files" / "r1" / "initial").write_text("#!/bin/sh\n")
    (work / "netlab.snapshot.pickle").write_bytes(os.urandom(64))
    # netlab_generate's private HOME and rollback copy: not a lab output
    (work / ".skyforge-generate" / "home" / ".netlab").mkdir(parents=True)
    (work / ".skyforge-generate" / "home" / ".netlab" / "stats.json").write_text("{}")
    (tmp_path / "bundle.tar.gz").write_bytes(b"bundle")
    (tmp_path / "manifests.yml").write_text("kind: Topology\n")
    return {"lab_artifacts_name": "lab1", "lab_artifacts_run": "run-1",
            "lab_artifacts_bundle": str(tmp_path / "bundle.tar.gz"),
            "lab_artifacts_manifests": str(tmp_path / "manifests.yml"),
            "lab_artifacts_workdir": str(work)}


def play(role_vars):
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "Collect", "ansible.builtin.include_role": {"name": "skyforge.labs.lab_artifacts"},
         "vars": role_vars}]}]


EXPECTED_KEYS = ["lab1/run-1/bundle.tar.gz", "lab1/run-1/manifests.yml", "lab1/run-1/netlab/clab.yml",
                 "lab1/run-1/netlab/node_files/r1/initial"]


def collect_twice(tmp_path, role_vars):
    rc, first, runner = run_playbook(tmp_path / "run1", play(role_vars))
    assert rc == 0, runner.stdout.read()
    assert sorted(first["Record the keys stored"]["ansible_facts"]["lab_artifacts_keys"]) == EXPECTED_KEYS
    assert all(first[name]["changed"] for name in STORE_TASKS)
    rc, second, dummy = run_playbook(tmp_path / "run2", play(role_vars))
    assert rc == 0
    assert not any(second[name]["changed"] for name in STORE_TASKS)


def test_file_store(tmp_path):
    store_dir = tmp_path / "store"
    role_vars = dict(make_lab(tmp_path), lab_artifacts_store="file://" + str(store_dir))
    collect_twice(tmp_path, role_vars)
    listed = artifacts.list_artifacts(artifacts.open_store("file://" + str(store_dir)), "lab1/")
    assert [r["key"] for r in listed] == EXPECTED_KEYS
    assert listed[0]["content_type"] == "application/gzip"
    assert listed[0]["metadata"] == {"lab": "lab1", "run": "run-1"}
    assert [r["content_type"] for r in listed[1:]] == ["application/yaml", "application/yaml", "text/plain"]


def test_s3_store(tmp_path):
    with S3Server(str(tmp_path / "s3")) as server:
        role_vars = dict(make_lab(tmp_path), lab_artifacts_store="s3://artifacts/labs",
                         lab_artifacts_s3=server.options())
        collect_twice(tmp_path, role_vars)
        store = artifacts.open_store("s3://artifacts/labs", **server.options())
        assert [r["key"] for r in artifacts.list_artifacts(store, "lab1/run-1/")] == EXPECTED_KEYS


def launcher_pod(name, topology):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"clabernetes/topologyOwner": topology}},
            "spec": {"automountServiceAccountToken": False,
                     "containers": [{"name": "launcher", "image": "ghcr.io/srl-labs/clabernetes/clabernetes-launcher"}]}}


def test_pod_logs_of_unscheduled_launchers_are_reported_not_fatal(tmp_path, admin_api, admin_kubeconfig,  # noqa: F811
                                                                  namespace):  # noqa: F811
    from kubernetes import client
    core = client.CoreV1Api(admin_api)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "default"}})
    core.create_namespaced_pod(namespace, launcher_pod("lab1-r1", "lab1"))
    core.create_namespaced_pod(namespace, launcher_pod("other-r1", "other"))
    out = collect_pod_logs(k8s.Api(admin_api), namespace, "lab1", str(tmp_path / "logs"))
    assert out["files"] == [] and out["changed"] is False
    [skipped] = out["unavailable"]
    assert skipped["pod"] == "lab1-r1" and skipped["container"] == "launcher"
    assert skipped["reason"] == "pod is not scheduled on a node (phase Pending)"

    role_vars = dict(make_lab(tmp_path), lab_artifacts_store="file://" + str(tmp_path / "store"),
                     lab_artifacts_namespace=namespace, lab_artifacts_kube={"kubeconfig": admin_kubeconfig})
    rc, results, runner = run_playbook(tmp_path / "run", play(role_vars))
    assert rc == 0, runner.stdout.read()
    assert results["Save the launcher pod logs"]["unavailable"][0]["pod"] == "lab1-r1"
    assert results["Remove the temporary log directory"]["changed"] is True


def test_pod_logs_against_an_unreachable_cluster(tmp_path):
    from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
    api = k8s.Api(k8s.connect(host="https://127.0.0.1:9", api_key="x", validate_certs=False))
    with pytest.raises(LabError, match="cannot reach the Kubernetes API"):
        collect_pod_logs(api, "ns", "lab1", str(tmp_path / "logs"))


def test_default_store_is_where_ansible_playbook_started(tmp_path):
    """`file://./.artifacts` means the job's directory, as every relative path of the
    playbooks does, not the directory holding the playbook."""
    import json
    import subprocess
    import sys

    from tests.servers.playbook import COLLECTIONS

    role_vars = make_lab(tmp_path)
    playbooks, started = tmp_path / "playbooks", tmp_path / "started-here"
    playbooks.mkdir()
    started.mkdir()
    (playbooks / "collect.yml").write_text(json.dumps(play(role_vars)))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, PWD=str(tmp_path))   # a stale $PWD
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                           "-c", "local", str(playbooks / "collect.yml")], cwd=str(started), env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (started / ".artifacts" / "records" / "lab1" / "run-1" / "bundle.tar.gz.json").is_file()
    assert not (playbooks / ".artifacts").exists() and not (tmp_path / ".artifacts").exists()
