"""Fixtures of the deploy/kubernetes tests."""

from tests.deploy.kustomize import deploy_tree, kubectl  # noqa: F401  (fixtures)
