# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest plugin: the real Clabernetes manager watching the test control plane.

Register after the control-plane plugin in tests/conftest.py:

    pytest_plugins = ["tests.controlplane.fixtures", "tests.controlplane.manager_fixtures"]

Fixtures
- c9s_manager     (module, parametrised "v0.6" / "v0.8") the running Manager of that API
                  generation, stopped when the module's tests of that generation are done
                  (it watches every namespace, so it must not run beside tests that write
                  Topology status themselves). One manager fits on a machine (fixed port
                  10443); a session-wide slot (c9s_manager_slot) enforces that.
                  A generation whose manager cannot be built here is skipped with the
                  build's own reason; with CI=true that fails the run instead.
- c9s_namespace   a fresh namespace (privileged Pod Security) for one test, deleted after it; the manager
                  watches every namespace.
- kubelet         a Kubelet for that namespace: no kubelet (nor deployment controller) runs, so
                  the test marks launcher Deployments ready/not ready through the status
                  subresource, which is exactly what the controller reads; kubelet.run()
                  does it on its own, rolling a launcher whenever its pod template changes.
- c9s_lab         factory: netlab_generate (once per topology per session) + c9s_render for
                  the test's namespace and the manager's API version.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import threading
import time
import uuid

import pytest

from tests.ci import unavailable
from tests.controlplane.manager import GENERATIONS, Manager, ManagerError, ManagerUnavailable

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MULTI_VENDOR = os.path.join(REPO, "examples", "multi-vendor", "topology.yml")


class ManagerSlot:
    """At most one running manager; asking for another generation stops the current one."""

    def __init__(self, control_plane):
        self.cp = control_plane
        self.current = None
        self.unavailable = {}

    def get(self, generation):
        if generation in self.unavailable:
            raise self.unavailable[generation]
        if self.current is not None and self.current.generation == generation and self.current.running():
            return self.current
        self.stop()
        try:
            self.current = Manager(self.cp, generation).start()
        except ManagerUnavailable as exc:
            self.unavailable[generation] = exc
            raise
        return self.current

    def stop(self):
        if self.current is not None:
            self.current.stop()
            self.current = None
            # the manager installed its release's CRDs; later tests expect the session's own
            # (../shared/reference/clabernetes: c9s.run from after v0.8.0 has status.error)
            self.cp.install_crds()


@pytest.fixture(scope="session")
def c9s_manager_slot(control_plane):
    slot = ManagerSlot(control_plane)
    yield slot
    slot.stop()


@pytest.fixture(scope="module", params=sorted(GENERATIONS))
def c9s_manager(request, c9s_manager_slot):
    try:
        manager = c9s_manager_slot.get(request.param)
    except ManagerUnavailable as exc:
        unavailable(str(exc))
    except ManagerError as exc:
        pytest.fail(str(exc))
    yield manager
    # It watches every namespace: left running, it would rewrite the Topology status that
    # other modules' tests write themselves (ControllerStub). Restarting costs about a second.
    c9s_manager_slot.stop()


@pytest.fixture()
def c9s_namespace(control_plane, c9s_manager, request):
    """Deleted afterwards (the namespace controller empties it), so the manager does not keep
    reconciling the labs of finished tests."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    base = "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:40].strip("-")
    name = control_plane.create_namespace("%s-%s" % (base or "t", uuid.uuid4().hex[:6]))
    yield name
    api = control_plane.api_client()
    try:
        client.CoreV1Api(api).delete_namespace(name)
    except ApiException as exc:
        if exc.status != 404:
            raise
    finally:
        api.close()


class Kubelet:
    """Plays the kubelet (and the deployment controller) for launcher Deployments."""

    def __init__(self, api_client, namespace, manager):
        from kubernetes import client

        self.apps = client.AppsV1Api(api_client)
        self.namespace = namespace
        self.owner_label, self.node_label = manager.owner_label, manager.node_label
        self.hold = set()
        self._thread = None

    def deployments(self, topology=None):
        """{topology node name: Deployment} of the launchers (optionally of one Topology)."""
        selector = "%s=%s" % (self.owner_label, topology) if topology else self.owner_label
        items = self.apps.list_namespaced_deployment(self.namespace, label_selector=selector).items
        return {d.metadata.labels[self.node_label]: d for d in items}

    def wait_deployments(self, nodes, topology=None, timeout=60, check=None):
        """Wait until a launcher Deployment exists for every node (and check(deployments) is
        true); returns {node: Deployment}."""
        deadline = time.monotonic() + timeout
        wanted = set(nodes)
        while True:
            found = self.deployments(topology)
            if wanted <= set(found) and (check is None or check(found)):
                return found
            if time.monotonic() > deadline:
                raise AssertionError("launcher Deployments after %ds: %s (wanted %s)" % (
                    timeout, sorted(found), sorted(wanted)))
            time.sleep(0.2)

    def mark(self, deployment, ready=True):
        """Write the status a kubelet-run pod would produce: one replica, ready or not, of the
        pod template the Deployment has (observedGeneration = its generation, as the deployment
        controller reports a finished rollout). Only onto that version of the Deployment: a
        name is read afresh (and re-read if the controller changes it meanwhile); a Deployment
        object that is no longer current gets a 409."""
        from kubernetes.client.rest import ApiException

        for _attempt in range(5):
            current = self.apps.read_namespaced_deployment(deployment, self.namespace) \
                if isinstance(deployment, str) else deployment
            status = {"observedGeneration": current.metadata.generation, "replicas": 1,
                      "updatedReplicas": 1, "readyReplicas": 1 if ready else 0,
                      "availableReplicas": 1 if ready else 0, "unavailableReplicas": 0 if ready else 1}
            try:
                self.apps.patch_namespaced_deployment_status(
                    current.metadata.name, self.namespace,
                    {"metadata": {"resourceVersion": current.metadata.resource_version}, "status": status},
                    _content_type="application/merge-patch+json")
                return
            except ApiException as exc:  # 409: changed since read
                if exc.status != 409 or not isinstance(deployment, str):
                    raise
        raise AssertionError("Deployment %s kept changing while being marked" % deployment)

    def mark_nodes(self, readiness, topology=None):
        """readiness: {topology node: bool}."""
        deployments = self.deployments(topology)
        for node, ready in sorted(readiness.items()):
            self.mark(deployments[node].metadata.name, ready)

    # -- automatic mode: what a cluster does to launcher Deployments on its own ---------------

    def run(self, boot=1.0, hold=()):
        """Until stop(): every launcher Deployment whose pod template is new (generation ahead
        of status.observedGeneration) gets its pod recreated, as the launchers' Recreate
        strategy does: not ready at once, ready `boot` seconds later. Nodes in `hold` stay
        not ready (see release())."""
        self.hold = set(hold)
        self._stopping = threading.Event()
        self.errors = []
        self._thread = threading.Thread(target=self._loop, args=(boot,), name="kubelet", daemon=True)
        self._thread.start()
        return self

    def release(self, node):
        self.hold.discard(node)

    def stop(self):
        if self._thread is not None:
            self._stopping.set()
            self._thread.join(10)
            self._thread = None

    def _loop(self, boot):
        from kubernetes.client.rest import ApiException

        booting = {}
        while not self._stopping.wait(0.2):
            try:
                for node, deployment in self.deployments().items():
                    name, status = deployment.metadata.name, deployment.status
                    now = time.monotonic()
                    if status is None or status.observed_generation != deployment.metadata.generation:
                        self.mark(deployment, ready=False)
                        booting[name] = now
                    elif node in self.hold:
                        if status.ready_replicas:
                            self.mark(deployment, ready=False)
                        booting.pop(name, None)
                    elif not status.ready_replicas and now - booting.setdefault(name, now) >= boot:
                        self.mark(deployment, ready=True)
                        booting.pop(name, None)
            except ApiException as exc:  # a Deployment deleted or rewritten meanwhile: next round
                self.errors.append(exc)


@pytest.fixture()
def kubelet(control_plane, c9s_manager, c9s_namespace):
    api = control_plane.api_client()  # its own client: the automatic mode runs in a thread
    player = Kubelet(api, c9s_namespace, c9s_manager)
    yield player
    player.stop()
    api.close()


@pytest.fixture(scope="session")
def _lab_bundles(tmp_path_factory):
    cache = {}

    def bundle(topology):
        from ansible_collections.skyforge.labs.plugins.module_utils.netlab import generate as netlab_generate

        topology = os.path.abspath(topology)
        if topology not in cache:
            out = tmp_path_factory.mktemp("lab")
            result = netlab_generate.generate(topology, str(out / "work"), str(out / "lab.tar.gz"))
            cache[topology] = result["bundle"]
        return cache[topology]

    return bundle


@pytest.fixture()
def c9s_lab(_lab_bundles, c9s_namespace, c9s_manager, tmp_path):
    """render(topology=examples/multi-vendor, src=None, **c9s_render options) -> (manifests path,
    c9s_render result); render.bundle(topology) is the session's netlab_generate bundle."""
    from ansible_collections.skyforge.labs.plugins.module_utils.c9s import output as c9s

    def render(topology=MULTI_VENDOR, src=None, dest=None, **options):
        """src (a lab directory or bundle) wins over topology (generated once per session)."""
        options.setdefault("api_version", c9s_manager.api_version)
        options.setdefault("return_details", True)   # the tests compare the mounts with the launchers'
        dest = dest or str(tmp_path / ("manifests-%s.yml" % uuid.uuid4().hex[:6]))
        result = c9s.render(src or _lab_bundles(topology), dest, c9s_namespace, **options)
        return dest, result

    render.bundle = _lab_bundles

    return render
