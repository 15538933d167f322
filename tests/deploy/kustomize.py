"""Build deploy/kubernetes with the real kubectl (its embedded kustomize) for the tests.

A copy of deploy/kubernetes gets the files an overlay expects from its user (the store
password), so the checkout is never written; `wrap()` puts a kustomization on top of a
directory, the way a user's own overlay would.
"""

import os
import shutil
import subprocess

import pytest
import yaml

from tests.ci import unavailable
from tests.controlplane.cluster import ControlPlaneError, GoMissing, build_binaries

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy", "kubernetes")
OVERLAY = os.path.join("overlays", "external-postgres")
STORE_PASSWORD = "test-password-not-a-secret"


@pytest.fixture(scope="session")
def kubectl():
    try:
        return os.path.join(build_binaries(), "kubectl")
    except GoMissing as exc:
        unavailable("needs kubectl, which is built from Go: %s" % exc)
    except ControlPlaneError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def deploy_tree(tmp_path):
    """A copy of deploy/kubernetes with the overlay's password file written."""
    tree = tmp_path / "kubernetes"
    shutil.copytree(DEPLOY, str(tree), ignore=shutil.ignore_patterns("secrets"))
    secrets = tree / OVERLAY / "secrets"
    secrets.mkdir()
    (secrets / "store-password").write_text(STORE_PASSWORD)
    return tree


def kustomize(kubectl, directory):
    """The objects `kubectl kustomize directory` prints."""
    proc = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def wrap(directory, target, **fields):
    """A kustomization in `directory` whose resource is `target` (a relative path: kustomize
    refuses absolute ones), plus the given fields."""
    os.makedirs(str(directory), exist_ok=True)
    spec = dict({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                 "resources": [os.path.relpath(str(target), str(directory))]}, **fields)
    with open(os.path.join(str(directory), "kustomization.yaml"), "w") as handle:
        yaml.safe_dump(spec, handle)
    return directory


def one(objects, kind, name=None):
    found = [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, "%s %s: %s" % (kind, name, [o["metadata"]["name"] for o in found])
    return found[0]


def pod_spec(objects, deployment):
    return one(objects, "Deployment", deployment)["spec"]["template"]["spec"]


def containers(spec):
    return list(spec.get("initContainers") or []) + list(spec["containers"])
