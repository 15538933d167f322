"""Shared pytest set-up: where the shared reference files live."""

import os
import pathlib

import pytest

# Real etcd + kube-apiserver (and the Clabernetes manager) fixtures, shared by every suite.
pytest_plugins = ["tests.controlplane.fixtures", "tests.controlplane.manager_fixtures",
                  "tests.webhook.store_fixtures"]

REPO = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shared_reference():
    """../shared/reference beside the checkout (CI lays shared/ next to the clone)."""
    root = pathlib.Path(os.environ.get("SKYFORGE_SHARED", REPO.parent / "shared"))
    path = root / "reference"
    if not path.is_dir():
        pytest.fail("shared reference files not found at %s; set SKYFORGE_SHARED to the shared/ "
                    "directory" % path)
    return path
