"""Cancellation: signals with grace periods, nothing left in /proc, on_cancel clean-up."""

import os
import time

from webhook.executor import procs

from tests.webhook.conftest import pid_alive, run_pids
from tests.webhook.store_fixtures import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS


def wait_started(svc, run_id, runner_events=1, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        run = svc.run(run_id)
        if run["started_at"] and run["event_counts"]["runner"] >= runner_events:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not start: {run}")


def wait_until(condition, what, timeout=30):
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, what
        time.sleep(0.05)


def run_child(run_id, program):
    """The pid of a live process of the run executing `program`, or None."""
    for pid in run_pids(run_id):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                argv0 = handle.read().split(b"\0")[0]
        except OSError:
            continue
        if os.path.basename(argv0) == program.encode():
            return pid
    return None


def test_cancel_kills_every_process_including_a_detached_daemon(make_service, tmp_path):
    svc = make_service()
    pidfile = tmp_path / "daemon.pid"
    run = svc.submit("detach", vars={"pidfile": str(pidfile)})
    deadline = time.time() + 30
    while not (pidfile.exists() and pidfile.read_text().strip()):
        assert time.time() < deadline, svc.run(run["id"])
        time.sleep(0.05)
    daemon = int(pidfile.read_text())
    # the daemon clears its environment: only the cgroup / subreaper tree can find it
    wait_until(lambda: daemon not in run_pids(run["id"]), "the daemon still carries the run's tag")
    assert pid_alive(daemon)
    started = [e for e in svc.events(run["id"]) if e["type"] == "run.started"][0]["data"]
    if procs.cgroup2_mount() and os.access(procs.cgroup2_mount(), os.W_OK):
        assert started["isolation"] == "cgroup2+subreaper+env"
        assert daemon in procs.cgroup_pids(procs.run_cgroup(run["id"], "main"))
    else:
        assert started["isolation"] == "subreaper+env"
    requested = time.time()
    status, body, _ = svc.request("POST", f"/api/v1/runs/{run['id']}/cancel")
    assert status == 202 and body["cancel"] == "requested"
    done = svc.wait(run["id"], timeout=15)
    assert done["status"] == "canceled"
    # the daemon ignores SIGINT and SIGTERM: only the SIGKILL step (1.5 s in) stops it
    assert time.time() - requested < 4
    assert not pid_alive(daemon)
    assert run_pids(run["id"]) == []
    assert not os.path.exists(procs.run_cgroup(run["id"], "main") or "/nonexistent")
    events = svc.events(run["id"])
    lifecycle = [e["type"] for e in events if "." in e["type"]]
    assert lifecycle == ["run.queued", "run.started", "cancel.requested", "cancel.applied",
                         "run.finished"]
    applied = next(e["data"] for e in events if e["type"] == "cancel.applied")
    assert [s["signal"] for s in applied["signals"]] == ["SIGINT", "SIGTERM", "SIGKILL"]
    assert daemon in applied["signals"][-1]["pids"] and applied["remaining"] == []
    # repeated cancels change nothing; a finished run answers 409
    status, body, _ = svc.request("POST", f"/api/v1/runs/{run['id']}/cancel")
    assert status == 202 and body["cancel"] == "repeated"
    assert len(svc.events(run["id"])) == len(events)
    other = svc.submit("quick")
    svc.wait(other["id"])
    status, body, _ = svc.request("POST", f"/api/v1/runs/{other['id']}/cancel")
    assert status == 409 and "already finished" in body["error"]
    assert svc.request("POST", "/api/v1/runs/nope/cancel")[0] == 404


def test_cancel_with_on_cancel_cleanup_keeps_the_lock(make_service, tmp_path):
    svc = make_service()
    marker = tmp_path / "cleaned"
    lab = {"lab": "lab-a", "marker": str(marker), "fail_first": True}
    first = svc.submit("slow", vars=dict(lab, seconds=60))
    waiting = svc.submit("quick", vars={"lab": "lab-a"})
    dropped = svc.submit("quick", vars={"lab": "lab-a"})
    assert svc.run(waiting["id"])["queue_position"] >= 1
    # a queued run is canceled at once
    status, body, _ = svc.request("POST", f"/api/v1/runs/{dropped['id']}/cancel")
    assert status == 202 and body["status"] == "canceled" and body["cancel"] == "canceled"
    wait_started(svc, first["id"], runner_events=3)
    wait_until(lambda: run_child(first["id"], "sleep"), "the run never reached its `sleep` task")
    sleeper = run_child(first["id"], "sleep")
    svc.request("POST", f"/api/v1/runs/{first['id']}/cancel")
    canceled = svc.wait(first["id"], statuses=("canceled",), cleanup_done=False)
    assert run_pids(first["id"]) == [] or canceled["cleanup_running"]
    done = svc.wait(first["id"], timeout=60)
    events = {e["type"]: e for e in svc.events(first["id"])}
    applied = events["cancel.applied"]["data"]
    # the 60 s sleep was stopped by the signal escalation, not by running out
    assert not pid_alive(sleeper) and applied["remaining"] == []
    assert events["cancel.requested"]["ts"] <= events["cancel.applied"]["ts"]
    assert applied["duration_ms"] < 30000
    assert applied["on_cancel"]["status"] == "successful"
    assert [a["status"] for a in applied["on_cancel"]["attempts"]] == ["failed", "successful"]
    assert marker.read_text() == "cleaned lab-a\n"
    # the lock stayed held through the clean-up: the next run of the lab started after it
    after = svc.wait(waiting["id"])
    assert after["status"] == "successful"
    finished_event = [e for e in svc.events(first["id"]) if e["type"] == "run.finished"][0]
    claimed = svc.get(f"/api/v1/runs/{waiting['id']}/events?after=0")["events"]
    started = [e for e in claimed if e["type"] == "run.started"][0]
    assert started["ts"] >= finished_event["ts"]
    assert done["cleanup_running"] is False and run_pids(first["id"]) == []


def test_timeout_stops_the_run(make_service):
    svc = make_service()
    run = svc.submit("slow_short", vars={"seconds": 60})
    done = svc.wait(run["id"], timeout=30)
    assert done["status"] == "failed" and "timed out" in done["reason"]
    assert run_pids(run["id"]) == []
    types = [e["type"] for e in svc.events(run["id"])]
    assert "run.interrupted" in types and types[-1] == "run.finished"


def test_queued_run_expires_after_ttl(make_service):
    svc = make_service(queue={"ttl": 1}, worker={"slots": 1})
    busy = svc.submit("slow_plain", vars={"seconds": 4})
    waiting = svc.submit("quick")
    done = svc.wait(waiting["id"], timeout=20)
    assert done["status"] == "canceled" and done["reason"] == "expired"
    assert done["started_at"] is None
    assert [e["type"] for e in svc.events(waiting["id"])] == ["run.queued", "run.expired",
                                                             "run.finished"]
    assert svc.wait(busy["id"])["status"] == "successful"
