"""The one rule for a test whose tool or server is missing: under CI=true it fails (CI
must install everything), anywhere else it skips with the same message."""

import os

import pytest


def in_ci():
    return os.environ.get("CI") == "true"


def unavailable(message, may_skip_in_ci=False):
    """Fail in CI, skip elsewhere. may_skip_in_ci: a known, documented gap CI cannot close
    either (it still skips, with the message)."""
    if in_ci() and not may_skip_in_ci:
        pytest.fail("CI=true and %s" % message)
    pytest.skip(message)
