"""Fixtures of the deploy/kubernetes tests: the real kubectl, and a copy of deploy/kubernetes
with the file the overlay expects from its user (the store password), so the checkout is
never written."""

import os
import shutil

import pytest

from tests.ci import unavailable
from tests.controlplane.cluster import ControlPlaneError, GoMissing, build_binaries
from tests.deploy.kustomize import DEPLOY, OVERLAY, STORE_PASSWORD


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
