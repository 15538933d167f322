# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest plugin: a real control plane per test session and a fresh namespace per test.

Register it in tests/conftest.py with ``pytest_plugins = ["tests.controlplane.fixtures"]``.

Fixtures
- control_plane   (session) a started ControlPlane with both Clabernetes CRDs Established.
                  Skipped with the reason when Go is missing, unless CI=true (then it fails).
- admin_kubeconfig / user_kubeconfig   paths of the kubeconfig files.
- admin_api       (session) kubernetes ApiClient as the admin.
- namespace       a fresh namespace (privileged Pod Security) for one test.
- controller      a ControllerStub for the test's namespace: writes the Topology status the
                  real Clabernetes controller would write (see its docstring).

A manager process (issue 7) can be started beside the apiserver from ``control_plane``:
it offers server, ca_file / ca_pem, admin_token, bin_dir and workdir.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import uuid

import pytest

from tests.ci import unavailable
from tests.controlplane.cluster import ControlPlane, ControlPlaneError, GoMissing

GROUPS = {
    "c9s.run/v1alpha1": ("c9s.run", "v1alpha1"),
    "clabernetes.containerlab.dev/v1alpha1": ("clabernetes.containerlab.dev", "v1alpha1"),
}


@pytest.fixture(scope="session")
def control_plane():
    try:
        cp = ControlPlane().start()
    except GoMissing as exc:
        unavailable("needs the real kube-apiserver, which is built from Go: %s" % exc)
    except ControlPlaneError as exc:
        pytest.fail("control plane failed to start: %s" % exc)
    try:
        cp.install_crds()
        yield cp
    finally:
        cp.stop()


@pytest.fixture(scope="session")
def admin_api(control_plane):
    client = control_plane.api_client()
    yield client
    client.close()


@pytest.fixture()
def admin_kubeconfig(control_plane):
    return control_plane.admin_kubeconfig


@pytest.fixture()
def user_kubeconfig(control_plane):
    return control_plane.user_kubeconfig


@pytest.fixture()
def namespace(control_plane, request):
    """A fresh namespace per test (tests stay independent; kube-controller-manager runs only
    the garbage collector and namespace controllers)."""
    base = "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:40].strip("-")
    name = "%s-%s" % (base or "t", uuid.uuid4().hex[:6])
    return control_plane.create_namespace(name)


class ControllerStub:
    """Writes the Topology status the real Clabernetes controller writes.

    No controller runs in these tests. Topologies have no status subresource, so the
    controller rewrites the whole object (GET, set .status, PUT with the fresh
    resourceVersion, as a different field manager); this does the same.
    """

    MANAGER = "clabernetes-controller-stub"

    def __init__(self, api_client, namespace):
        from kubernetes import client

        self.api = client.CustomObjectsApi(api_client)
        self.namespace = namespace

    def get(self, api_version, name):
        group, version = GROUPS[api_version]
        return self.api.get_namespaced_custom_object(group, version, self.namespace, "topologies", name)

    def write_status(self, api_version, name, status):
        group, version = GROUPS[api_version]
        obj = self.get(api_version, name)
        obj["status"] = status
        return self.api.replace_namespaced_custom_object(
            group, version, self.namespace, "topologies", name, obj, field_manager=self.MANAGER)

    def set_ready(self, api_version, name, readiness):
        """readiness: {node: bool}. Builds the status shape of the served API generation."""
        ready = bool(readiness) and all(readiness.values())
        condition = {
            "type": "TopologyReady", "status": "True" if ready else "False",
            "reason": "ready" if ready else "notready",
            "message": "all nodes report ready" if ready else "one or more nodes report not ready",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        }
        if api_version.startswith("c9s.run/"):
            status = {
                "kind": "containerlab", "conditions": [condition], "topologyReady": ready,
                "nodeCount": len(readiness), "readyNodeCount": sum(1 for v in readiness.values() if v),
                "linkCount": 0, "topologyState": "running" if ready else "deploying",
            }
        else:
            status = {
                "kind": "containerlab", "conditions": [condition], "topologyReady": ready,
                "configs": {}, "exposedPorts": {}, "removeTopologyPrefix": False,
                "reconcileHashes": {"config": "stub", "exposedPorts": "stub", "filesFromURL": {},
                                    "imagePullSecrets": "stub"},
                "nodeReadiness": {n: ("ready" if v else "notready") for n, v in sorted(readiness.items())},
                "topologyState": "running" if ready else "deploying",
            }
        return self.write_status(api_version, name, status)


@pytest.fixture()
def controller(admin_api, namespace):
    return ControllerStub(admin_api, namespace)


# -- small lab manifests, in the shape c9s_render writes (ConfigMaps sorted, Topology last) ---

LAB_LABELS = ("app.kubernetes.io/managed-by", "skyforge.labs/lab")


def lab_manifests(name, namespace, api_version="c9s.run/v1alpha1", files=None, nodes=("r1", "r2")):
    """Objects of a small lab: one ConfigMap per entry of files {cm_name: {key: text}}.

    Every node mounts every ConfigMap key under node_files/<cm>/<key>.
    """
    import yaml

    files = files if files is not None else {"%s-r1-initial" % name: {"initial": "hostname r1\n"}}

    def labels(component):
        return {"app.kubernetes.io/managed-by": "skyforge.labs", "skyforge.labs/lab": name,
                "skyforge.labs/component": component}

    objects = [{"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": cm, "namespace": namespace, "labels": labels("files")},
                "data": dict(sorted(data.items()))} for cm, data in sorted(files.items())]
    node = {"kind": "linux", "image": "python:3.13-alpine"}
    clab = {"name": name, "topology": {"nodes": {n: dict(node) for n in nodes}}}
    mounts = [{"filePath": "node_files/%s/%s" % (cm, key), "configMapName": cm, "configMapPath": key,
               "mode": "read"} for cm, data in sorted(files.items()) for key in sorted(data)]
    objects.append({
        "apiVersion": api_version, "kind": "Topology",
        "metadata": {"name": name, "namespace": namespace, "labels": labels("topology")},
        "spec": {
            "naming": "prefixed",
            "definition": {"containerlab": yaml.safe_dump(clab, sort_keys=True)},
            "deployment": {"filesFromConfigMap": {n: mounts for n in nodes}},
            "statusProbes": {"enabled": False},
        },
    })
    return objects


def write_manifests(path, objects):
    """Multi-document YAML, like c9s_render's dest."""
    import yaml

    text = "".join("---\n" + yaml.safe_dump(obj, sort_keys=True) for obj in objects)
    with open(str(path), "w") as handle:
        handle.write(text)
    return str(path)


def apply_params(kubeconfig, **overrides):
    """The c9s_apply module's parameters with its defaults, for calling module_utils directly."""
    params = dict(src=None, lab_name=None, state="present", namespace=None, create_namespace=False,
                  prune=True, wait=False, wait_timeout=600, api_version="auto",
                  field_manager="skyforge-labs", force_conflicts=False, kubeconfig=kubeconfig,
                  context=None, host=None, api_key=None, ca_cert=None, validate_certs=None)
    params.update(overrides)
    return params


REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_playbook(playbook, extra_vars, tmp_path, options=(), env=None, timeout=300, cwd=REPO_ROOT):
    """ansible-playbook with the collection from this checkout, started in `cwd`; returns
    CompletedProcess."""
    import json
    import subprocess
    import sys

    vars_file = os.path.join(str(tmp_path), "extra-vars-%s.json" % uuid.uuid4().hex[:6])
    with open(vars_file, "w") as handle:
        json.dump(extra_vars, handle)
    environment = dict(os.environ)
    environment.update({
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO_ROOT, ".skyforge", "collections"),
        "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
    })
    environment.update(env or {})
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
            "-c", "local", playbook, "-e", "@" + vars_file] + list(options)
    return subprocess.run(argv, cwd=cwd, env=environment, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=timeout, check=False)
