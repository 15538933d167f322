"""Build deploy/kubernetes with the real kubectl (its embedded kustomize) for the tests;
`wrap()` puts a kustomization on top of a directory, the way a user's own overlay would."""

import os
import subprocess

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy", "kubernetes")
OVERLAY = os.path.join("overlays", "external-postgres")
STORE_PASSWORD = "test-password-not-a-secret"


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
