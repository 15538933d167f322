# -*- coding: utf-8 -*-
"""c9s_apply wait=true against the real apiserver.

No Clabernetes controller runs here: the tests play the controller. Topologies have no
status subresource, so — like the real controller — the `controller` fixture GETs the
Topology, sets .status and PUTs the whole object back (fresh resourceVersion, its own field
manager). Whether c9s_apply accepts a Ready must depend only on what that write looks like
and, for clabernetes.containerlab.dev (v0.6), on the launcher Deployments the controller
derives it from: `launchers` plays those (the controller creates them, a kubelet reports
their pods), `report` writes both in the controller's order.
"""

import threading
import time

import pytest
from kubernetes import client

from ansible_collections.skyforge.labs.plugins.module_utils.c9s.service import run
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from tests.controlplane.fixtures import GROUPS, apply_params, lab_manifests, write_manifests

pytest_plugins = ["tests.controlplane.fixtures"]
pytestmark = pytest.mark.controlplane

V06 = "clabernetes.containerlab.dev/v1alpha1"


class Background:
    """Runs c9s_apply in a thread so the test can play the controller meanwhile."""

    def __init__(self, params):
        self.result = self.error = None
        self.thread = threading.Thread(target=self._run, args=(params,), daemon=True)
        self.thread.start()

    def _run(self, params):
        try:
            self.result = run(params)
        except Exception as exc:  # handed to the test thread
            self.error = exc

    def finish(self, timeout=30):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "c9s_apply still waiting"
        if self.error:
            raise self.error
        return self.result


class Launchers:
    """The v0.6 launcher Deployments of a Topology: what the controller creates per node and
    what the kubelet reports about their pods (status subresource)."""

    def __init__(self, api_client, namespace):
        self.apps = client.AppsV1Api(api_client)
        self.namespace = namespace

    def ensure(self, topology, node):
        name = "%s-%s" % (topology, node)
        labels = {"clabernetes/topologyOwner": topology, "clabernetes/topologyNode": node}
        try:
            return self.apps.read_namespaced_deployment(name, self.namespace)
        except client.ApiException as exc:
            if exc.status != 404:
                raise
        return self.apps.create_namespaced_deployment(self.namespace, {
            "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": 1, "strategy": {"type": "Recreate"}, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                         {"name": node, "image": "ghcr.io/srl-labs/clabernetes/clabernetes-launcher"}]}}}})

    def roll(self, topology, node):
        """The controller changed the pod template (new files): generation moves on."""
        self.apps.patch_namespaced_deployment("%s-%s" % (topology, node), self.namespace, {
            "spec": {"template": {"metadata": {"annotations": {"rolled": str(time.monotonic())}}}}})

    def report(self, topology, node, ready, rolled_out=True):
        """The pod's readiness; rolled_out=False: the deployment controller has not seen the
        new template yet (observedGeneration stays behind)."""
        current = self.ensure(topology, node)
        generation = current.metadata.generation
        status = {"observedGeneration": generation if rolled_out else generation - 1, "replicas": 1,
                  "updatedReplicas": 1, "readyReplicas": 1 if ready else 0, "availableReplicas": 1 if ready else 0}
        self.apps.patch_namespaced_deployment_status(current.metadata.name, self.namespace, {"status": status})


@pytest.fixture()
def launchers(admin_api, namespace):
    return Launchers(admin_api, namespace)


def report(controller, launchers, api_version, name, readiness):
    """What the controller does per reconcile: v0.6 reads its launchers, then writes status."""
    if api_version == V06:
        for node, ready in sorted(readiness.items()):
            launchers.report(name, node, ready)
    return controller.set_ready(api_version, name, readiness)


def settle(background, seconds=2.5):
    """Give the waiting apply time to (wrongly) accept what it sees."""
    time.sleep(seconds)
    return background.thread.is_alive()


@pytest.mark.parametrize("api_version", sorted(GROUPS))
def test_wait_returns_once_the_controller_reports_ready(control_plane, controller, launchers, namespace, tmp_path,
                                                        api_version):
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace, api_version))
    waiting = Background(apply_params(control_plane.admin_kubeconfig, src=src, wait=True, wait_timeout=40))
    deadline = time.monotonic() + 20
    while True:  # the Topology exists once the apply created it
        try:
            controller.get(api_version, "demo")
            break
        except client.ApiException:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    report(controller, launchers, api_version, "demo", {"r1": True, "r2": False})
    assert settle(waiting), "returned although r2 is not ready"
    report(controller, launchers, api_version, "demo", {"r1": True, "r2": True})
    result = waiting.finish()
    readiness = result["readiness"]
    assert readiness["ready"] and readiness["ready_nodes"] == 2 and readiness["total_nodes"] == 2
    if api_version == V06:
        assert readiness["nodes"] == {"r1": "ready", "r2": "ready"}
        assert readiness["launchers"] == {"checked": True, "deployments": 2}
    else:
        assert "launchers" not in readiness  # c9s.run reports readiness itself


@pytest.mark.parametrize("api_version", sorted(GROUPS))
def test_a_ready_from_before_the_change_does_not_end_the_wait(
        control_plane, controller, launchers, namespace, tmp_path, api_version):
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace, api_version,
                                                              files={"demo-a1": {"f": "1"}}))
    run(apply_params(control_plane.admin_kubeconfig, src=src))
    report(controller, launchers, api_version, "demo", {"r1": True, "r2": True})  # Ready for the old content

    write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace, api_version,
                                                        files={"demo-a2": {"f": "2"}}))
    waiting = Background(apply_params(control_plane.admin_kubeconfig, src=src, wait=True, wait_timeout=40))
    assert settle(waiting), "a stale Ready (written before this change) ended the wait"
    # the controller processes the change: the launchers roll (a node is briefly not ready),
    # then all are ready again. It writes the Topology only when the status changes.
    report(controller, launchers, api_version, "demo", {"r1": True, "r2": False})
    assert settle(waiting, 1.5)
    report(controller, launchers, api_version, "demo", {"r1": True, "r2": True})
    result = waiting.finish()
    assert result["readiness"]["ready"]
    assert ("Topology", "demo", "updated") in [(o["kind"], o["name"], o["action"]) for o in result["objects"]]


def test_stale_ready_times_out_with_the_reason(control_plane, controller, namespace, tmp_path):
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace, files={"demo-a1": {"f": "1"}}))
    run(apply_params(control_plane.admin_kubeconfig, src=src))
    controller.set_ready("c9s.run/v1alpha1", "demo", {"r1": True, "r2": True})
    write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace, files={"demo-a2": {"f": "2"}}))
    with pytest.raises(LabError) as err:
        run(apply_params(control_plane.admin_kubeconfig, src=src, wait=True, wait_timeout=2))
    message = str(err.value)
    assert "not ready after 2s" in message and "predates our change" in message


def test_a_change_left_unprocessed_by_an_earlier_run_is_not_taken_for_ready(control_plane, controller, namespace,
                                                                            tmp_path):
    """Run 1 changed the lab and stopped (no wait); run 2 is a no-op apply with wait."""
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace, files={"demo-a1": {"f": "1"}}))
    run(apply_params(control_plane.admin_kubeconfig, src=src))
    controller.set_ready("c9s.run/v1alpha1", "demo", {"r1": True, "r2": True})
    time.sleep(1.1)  # managedFields times have one-second resolution
    write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace, files={"demo-a2": {"f": "2"}}))
    run(apply_params(control_plane.admin_kubeconfig, src=src))  # the interrupted run

    with pytest.raises(LabError) as err:
        run(apply_params(control_plane.admin_kubeconfig, src=src, wait=True, wait_timeout=2))
    assert "before our last change" in str(err.value)
    controller.set_ready("c9s.run/v1alpha1", "demo", {"r1": False, "r2": True})  # the rollout
    controller.set_ready("c9s.run/v1alpha1", "demo", {"r1": True, "r2": True})
    result = run(apply_params(control_plane.admin_kubeconfig, src=src, wait=True, wait_timeout=10))
    assert not result["changed"] and result["readiness"]["ready"]


def test_timeout_lists_node_readiness_pods_and_events(control_plane, admin_api, controller, namespace, tmp_path):
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace, V06))
    run(apply_params(control_plane.admin_kubeconfig, src=src))
    controller.set_ready(V06, "demo", {"r1": True, "r2": False})
    core = client.CoreV1Api(admin_api)
    core.create_namespaced_pod(namespace, {"metadata": {"name": "demo-r2-launcher"}, "spec": {
        "containers": [{"name": "launcher", "image": "ghcr.io/srl-labs/clabernetes/clabernetes-launcher"}]}})
    involved = {"kind": "Pod", "name": "demo-r2-launcher", "namespace": namespace}
    core.create_namespaced_event(namespace, {
        "metadata": {"name": "demo-r2.1"}, "type": "Warning", "reason": "FailedScheduling",
        "message": "0/0 nodes are available", "involvedObject": involved})
    with pytest.raises(LabError) as err:
        run(apply_params(control_plane.admin_kubeconfig, src=src, wait=True, wait_timeout=2))
    message = str(err.value)
    assert "1/2 nodes ready" in message
    assert "r1=ready" in message and "r2=notready" in message
    assert "demo-r2-launcher=Pending" in message
    assert "FailedScheduling" in message and "0/0 nodes are available" in message


def test_a_controller_error_fails_the_wait_at_once(control_plane, controller, namespace, tmp_path):
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace))
    run(apply_params(control_plane.admin_kubeconfig, src=src))
    status = controller.get("c9s.run/v1alpha1", "demo").get("status") or {}
    status.update({"kind": "containerlab", "conditions": [], "topologyReady": False,
                   "error": "definition: node r1 has unknown kind"})
    controller.write_status("c9s.run/v1alpha1", "demo", status)
    started = time.monotonic()
    with pytest.raises(LabError) as err:
        run(apply_params(control_plane.admin_kubeconfig, src=src, wait=True, wait_timeout=30))
    assert "node r1 has unknown kind" in str(err.value)
    assert time.monotonic() - started < 10


def _spec_applied(controller, text):
    """Wait until the running apply has put `text` into the Topology's spec."""
    deadline = time.monotonic() + 20
    while True:
        try:
            if text in str(controller.get(V06, "demo")["spec"]):
                return
        except client.ApiException as exc:
            if exc.status != 404:  # not created yet
                raise
        assert time.monotonic() < deadline, "the apply never reached the Topology"
        time.sleep(0.2)


def test_v06_ready_written_before_the_launchers_rolled_out_does_not_end_the_wait(
        control_plane, controller, launchers, namespace, tmp_path):
    """v0.6 updates the launcher Deployments for a change, then writes a status computed from
    them as listed before the update: the old pods' readyReplicas=1, so 'ready' at once."""
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace, V06, files={"demo-a1": {"f": "1"}}))
    run(apply_params(control_plane.admin_kubeconfig, src=src))
    report(controller, launchers, V06, "demo", {"r1": True, "r2": True})

    write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace, V06, files={"demo-a2": {"f": "2"}}))
    waiting = Background(apply_params(control_plane.admin_kubeconfig, src=src, wait=True, wait_timeout=40))
    _spec_applied(controller, "demo-a2")
    for node in ("r1", "r2"):
        launchers.roll("demo", node)  # new files: new pod template, not yet seen by a kubelet
    status = controller.get(V06, "demo")["status"]
    status["reconcileHashes"]["config"] = "after-the-change"
    controller.write_status(V06, "demo", status)  # fresh (after our apply), and all "ready"
    assert settle(waiting), "returned while the launchers had not rolled out"

    # the same state seen by a run that times out: it names the launchers
    with pytest.raises(LabError) as err:
        run(apply_params(control_plane.admin_kubeconfig, src=src, wait=True, wait_timeout=2))
    message = str(err.value)
    assert "launcher Deployments have not finished rolling out" in message
    assert "demo-r1 (node r1): new pod template not rolled out yet (observedGeneration 1 < generation 2)" in message

    launchers.report("demo", "r1", True)
    assert settle(waiting, 1.5), "returned while r2 had not rolled out"
    launchers.report("demo", "r2", True)
    result = waiting.finish()
    assert result["readiness"]["ready"] and result["readiness"]["launchers"] == {"checked": True, "deployments": 2}


def test_v06_without_read_access_to_deployments_the_status_decides_and_the_result_says_so(
        control_plane, admin_api, controller, launchers, namespace, tmp_path):
    rbac = client.RbacAuthorizationV1Api(admin_api)
    rbac.create_namespaced_role(namespace, {"metadata": {"name": "no-deployments"}, "rules": [
        {"apiGroups": ["clabernetes.containerlab.dev"], "resources": ["topologies"],
         "verbs": ["get", "list", "watch", "create", "patch", "update", "delete"]},
        {"apiGroups": [""], "resources": ["configmaps"],
         "verbs": ["get", "list", "create", "patch", "update", "delete"]}]})
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": "no-deployments"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "no-deployments"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "lab-user"}]})
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace, V06))
    waiting = Background(apply_params(control_plane.user_kubeconfig, src=src, wait=True, wait_timeout=40))
    _spec_applied(controller, "demo-r1-initial")
    report(controller, launchers, V06, "demo", {"r1": True, "r2": True})
    readiness = waiting.finish()["readiness"]
    assert readiness["ready"] and readiness["launchers"]["checked"] is False
    assert "cannot list Deployments in namespace %s (403)" % namespace in readiness["launchers"]["reason"]
