"""The shipped example catalog runs the collection's own playbooks through the real service."""

import json
import os

import yaml

from conftest import ROOT  # noqa: F401  (tests/webhook/conftest.py; pytest puts it on sys.path)


def _example_catalog():
    with open(os.path.join(ROOT, "webhook", "config.example.yml")) as handle:
        example = yaml.safe_load(handle)
    base = os.path.join(ROOT, "webhook")
    playbooks = {}
    for name, entry in example["playbooks"].items():
        entry = dict(entry)
        for key in ("playbook", "inventory", "cwd"):
            if key in entry:
                entry[key] = os.path.normpath(os.path.join(base, entry[key]))
        entry["files"] = {var: {n: os.path.normpath(os.path.join(base, f)) for n, f in t.items()}
                          for var, t in entry.get("files", {}).items()}
        playbooks[name] = entry
    return playbooks, example["executor"]


def test_lab_render_from_the_example_catalog_renders_the_example_lab(make_service, tmp_path):
    playbooks, executor = _example_catalog()
    executor = dict(executor, env=dict(executor["env"], ANSIBLE_COLLECTIONS_PATH=os.path.join(
        ROOT, ".skyforge", "collections")))
    # the worker was started from elsewhere: the example's name still means its file
    svc = make_service(playbooks=playbooks, executor=executor, worker_env={"PWD": str(tmp_path)})
    # output is keyed by lab_name, the catalog entry's lock
    out_dir = os.path.join(ROOT, "out", "webhook-frr")
    run = svc.submit("lab_render", vars={"topology": "frr-small",
                                          "lab_name": "webhook-frr", "namespace": "lab-webhook"})
    final = svc.wait(run["id"], timeout=300)
    stdout = svc.request("GET", "/api/v1/runs/%s/stdout" % run["id"])[1]
    assert final["status"] == "successful", stdout[-3000:]
    assert "Lab frr-small: " in stdout
    with open(os.path.join(out_dir, "manifests.yml")) as handle:
        docs = list(yaml.safe_load_all(handle))
    assert docs[-1]["kind"] == "Topology" and docs[-1]["metadata"]["namespace"] == "lab-webhook"


def test_lab_runs_lock_on_the_lab_name_their_output_is_keyed_by():
    playbooks, dummy = _example_catalog()
    for name in ("lab_render", "lab_deploy"):
        assert playbooks[name]["lock"] == "vars.lab_name", name
        assert "lab_name" in playbooks[name]["schema"]["required"], name


def test_host_check_from_the_example_catalog_checks_images_and_this_host(make_service):
    playbooks, executor = _example_catalog()
    executor = dict(executor, env=dict(executor["env"], ANSIBLE_COLLECTIONS_PATH=os.path.join(
        ROOT, ".skyforge", "collections")))
    svc = make_service(playbooks=playbooks, executor=executor)
    run = svc.submit("host_check", vars={"topology": "frr-small", "fail_on": "never"})
    final = svc.wait(run["id"], timeout=300)
    stdout = svc.request("GET", "/api/v1/runs/%s/stdout" % run["id"])[1]
    assert final["status"] == "successful", stdout[-3000:]
    assert "2 images: " in stdout                      # frr and linux, whatever the network says
    assert " checks: " in stdout and "ok, " in stdout  # the host_prereqs summary of this machine


def test_a_deploy_started_from_the_webhook_is_canceled_and_cleaned_off_the_cluster(
        make_service, control_plane, c9s_manager, c9s_namespace, kubelet):
    """Chat/CI to cluster and back: the example catalog's lab_deploy runs against the real
    API server and Clabernetes manager, waits on a node that never gets ready, is canceled
    through the API, and its on_cancel entry (lab_destroy, with the run's vars) removes
    what the deploy created."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    playbooks, executor = _example_catalog()
    executor = dict(executor, env=dict(
        executor["env"], ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".skyforge", "collections"),
        K8S_AUTH_KUBECONFIG=control_plane.admin_kubeconfig))   # what AWX's credential injects too
    svc = make_service(playbooks=playbooks, executor=executor)
    kubelet.run(boot=0.5, hold={"c1"})
    run = svc.submit("lab_deploy", vars={
        "topology": "multi-vendor", "lab_name": "multi-vendor",
        "namespace": c9s_namespace, "api_version": c9s_manager.api_version})
    kubelet.wait_deployments(["c1", "h1", "r1", "r2", "r3"], topology="multi-vendor", timeout=240)
    core = client.CoreV1Api(control_plane.api_client())
    selector = "app.kubernetes.io/managed-by=skyforge.labs,skyforge.labs/lab=multi-vendor"
    assert core.list_namespaced_config_map(c9s_namespace, label_selector=selector).items
    assert svc.run(run["id"])["status"] == "running"   # still waiting for c1

    status, body, _ = svc.request("POST", "/api/v1/runs/%s/cancel" % run["id"])
    assert status == 202 and body["cancel"] == "requested"
    done = svc.wait(run["id"], timeout=300)
    stdout = svc.request("GET", "/api/v1/runs/%s/stdout" % run["id"])[1]
    assert done["status"] == "canceled", stdout[-3000:]
    applied = [e for e in svc.events(run["id"]) if e["type"] == "cancel.applied"][0]["data"]
    assert applied["on_cancel"]["playbook"] == "lab_destroy"
    assert applied["on_cancel"]["status"] == "successful", stdout[-3000:]
    assert core.list_namespaced_config_map(c9s_namespace, label_selector=selector).items == []
    assert kubelet.deployments("multi-vendor") == {}  # lab_destroy waited for the garbage collector
    group, version = c9s_manager.api_version.split("/")
    try:
        client.CustomObjectsApi(core.api_client).get_namespaced_custom_object(
            group, version, c9s_namespace, "topologies", "multi-vendor")
        raise AssertionError("the Topology is still there after the on_cancel clean-up")
    except ApiException as exc:
        assert exc.status == 404
    finally:
        core.api_client.close()


def test_lab_status_from_the_example_catalog_reports_each_lab_and_its_unready_nodes(
        make_service, control_plane, c9s_manager, c9s_namespace, kubelet, c9s_lab):
    """The read-only lab_status entry: a lab deployed through the real manager with one node
    held not ready gives one line for the lab and one for that node, with the reason."""
    from ansible_collections.skyforge.labs.plugins.module_utils.c9s import service as c9s_apply
    from tests.controlplane.fixtures import apply_params

    kubelet.run(boot=0.5, hold={"c1"})
    src, _rendered = c9s_lab()
    c9s_apply.run(apply_params(control_plane.admin_kubeconfig, src=src))
    kubelet.wait_deployments(["c1", "h1", "r1", "r2", "r3"], "multi-vendor", check=lambda found: all(
        n == "c1" or (d.status and d.status.ready_replicas) for n, d in found.items()))
    playbooks, executor = _example_catalog()
    assert "lock" not in playbooks["lab_status"]      # reads only: nothing to serialise
    executor = dict(executor, env=dict(
        executor["env"], ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".skyforge", "collections"),
        K8S_AUTH_KUBECONFIG=control_plane.admin_kubeconfig))
    svc = make_service(playbooks=playbooks, executor=executor)
    run = svc.submit("lab_status", vars={"namespaces": [c9s_namespace]})
    final = svc.wait(run["id"], timeout=300)
    stdout = svc.request("GET", "/api/v1/runs/%s/stdout" % run["id"])[1]
    assert final["status"] == "successful", stdout[-3000:]
    assert "Lab %s/multi-vendor (%s): NOT READY" % (c9s_namespace, c9s_manager.api_version) in stdout, stdout[-3000:]
    assert "Node c1 of %s/multi-vendor not ready: controller reports" % c9s_namespace in stdout
    assert "Node r1 of" not in stdout
    refused = svc.submit("lab_status", expect=422, vars={"namespaces": ["../etc"]})
    assert "namespaces" in json.dumps(refused)     # the schema refuses what is not a namespace name
