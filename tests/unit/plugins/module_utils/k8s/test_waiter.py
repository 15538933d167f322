"""The one polling loop: returns the probe's value once done, raises the caller's error
with the last value on timeout, and lets a probe stop early by raising."""

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.k8s.waiter import wait_for


def test_returns_the_value_once_the_probe_is_done():
    answers = iter([(False, 1), (False, 2), (True, 3)])
    value, waited = wait_for(lambda: next(answers), timeout=10, on_timeout=LabError, interval=0)
    assert value == 3 and waited >= 0


def test_timeout_raises_with_the_last_value():
    seen = []

    def probe():
        seen.append(len(seen))
        return False, len(seen)
    with pytest.raises(LabError, match="gave up at") as err:
        wait_for(probe, timeout=0.05, on_timeout=lambda last: LabError("gave up at %d" % last), interval=0.01)
    assert err.value.message == "gave up at %d" % len(seen)


def test_a_probe_can_stop_the_wait_early():
    def probe():
        raise LabError("failed for good")
    with pytest.raises(LabError, match="failed for good"):
        wait_for(probe, timeout=60, on_timeout=LabError)
