"""`kubectl apply --dry-run=server -k` of deploy/kubernetes against the real kube-apiserver:
the API server validates and admits every object (schemas, RBAC objects, the PDB) without
storing them."""

import subprocess

import pytest

from tests.deploy.kustomize import OVERLAY, kustomize, wrap

pytestmark = pytest.mark.controlplane


@pytest.mark.parametrize("which", ["base", OVERLAY])
def test_server_side_dry_run_admits_every_object(which, kubectl, deploy_tree, control_plane, namespace, tmp_path):
    # the user's kustomization picks the namespace (the base says `skyforge`); dry run does
    # not create a namespace, so the test's fresh one stands in
    target = wrap(tmp_path / "in-namespace", deploy_tree / which, namespace=namespace)
    expected = kustomize(kubectl, target)
    proc = subprocess.run([kubectl, "--kubeconfig", control_plane.admin_kubeconfig, "apply", "--dry-run=server",
                           "-k", str(target)], capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert all(line.endswith("created (server dry run)") for line in lines), proc.stdout
    assert len(lines) == len(expected)
    # nothing was stored
    listed = subprocess.run([kubectl, "--kubeconfig", control_plane.admin_kubeconfig, "-n", namespace, "get",
                             "deployments,configmaps,roles", "-o", "name"],
                            capture_output=True, text=True, check=True)
    assert "skyforge" not in listed.stdout


def test_server_side_dry_run_refuses_a_broken_manifest(kubectl, deploy_tree, control_plane, namespace, tmp_path):
    """The dry run really validates: a PDB asking for two things at once is refused."""
    patch = [{"op": "add", "path": "/spec/maxUnavailable", "value": 1}]
    target = wrap(tmp_path / "broken", deploy_tree / OVERLAY, namespace=namespace,
                  patches=[{"target": {"kind": "PodDisruptionBudget"}, "patch": __import__("json").dumps(patch)}])
    proc = subprocess.run([kubectl, "--kubeconfig", control_plane.admin_kubeconfig, "apply", "--dry-run=server",
                           "-k", str(target)], capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode != 0
    assert "minAvailable" in proc.stderr and "maxUnavailable" in proc.stderr
