"""The one rule for a test whose tool or server is missing: it fails, naming what is
missing. `make test` installs and starts everything the tests need, so a missing piece is
a broken setup to fix, never a test to skip."""

import pytest


def unavailable(message):
    """Fail with what is missing (`make test` provides it; there is no skip)."""
    pytest.fail("%s (`make test` installs and starts what the tests need)" % message)
