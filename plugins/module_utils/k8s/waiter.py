# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one polling loop: call a probe until it says done, or give up after a timeout.

A probe is a predicate per kind of wait (a Topology is ready and fresh, objects are gone);
it returns (done, value) and may raise to stop early (a failure it can already see).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError


def wait_for(probe, timeout, on_timeout, interval=1.0):
    """(value, seconds waited) once probe() returns (True, value).

    After `timeout` seconds, raises on_timeout(value) with the probe's last value.
    """
    start = time.monotonic()
    while True:
        done, value = probe()
        if done:
            return value, time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise on_timeout(value)
        time.sleep(interval)


def gone(api, targets, namespace):
    """Probe: every target answers 404. targets: [(path, resource, kind, name)] in namespace.

    Its value is [(target, live object)] of those still present.
    """
    remaining = list(targets)

    def probe():
        still = []
        for target in remaining:
            path, resource, kind, name = target
            obj = api.get_or_none(path, resource, name=name, namespace=namespace, kind=kind)
            if obj is not None:
                still.append((target, obj))
        remaining[:] = [target for target, _obj in still]
        return not still, still
    return probe


def wait_gone(api, targets, namespace, timeout, interval=0.5):
    """Wait until every target is deleted; LabError naming what is left and its finalizers."""
    def timed_out(still):
        details = ", ".join("%s/%s (finalizers: %s)" % (
            kind, name, ", ".join(obj["metadata"].get("finalizers") or []) or "none")
            for (_path, _resource, kind, name), obj in still)
        return LabError("deleted objects still present after %ds in namespace %s: %s. A finalizer waits "
                        "for its controller (is Clabernetes running?)" % (timeout, namespace, details))
    if targets:
        wait_for(gone(api, targets, namespace), timeout, timed_out, interval)
