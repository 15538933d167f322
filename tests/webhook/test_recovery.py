"""Crash recovery: kill -9 a worker mid-run; the run is reaped and the queue continues."""

import os
import signal
import time

from tests.webhook.conftest import run_pids, wait_for
from tests.webhook.store_fixtures import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS


def test_killed_worker_run_is_reaped_and_queue_continues(make_service):
    # dead_after is long: only the restart of the same worker id can explain a quick reap
    svc = make_service(workers=0, worker={"slots": 1, "dead_after": 60})
    worker = svc.start_worker("crashy")
    running = svc.submit("slow_plain", vars={"seconds": 60})
    queued = [svc.submit("quick", vars={"who": str(i)}) for i in range(2)]
    wait_for(lambda: svc.run(running["id"])["event_counts"]["runner"] >= 3, 30, "the slow task")
    assert run_pids(running["id"])
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    # the run's processes die with their worker (parent-death signal in the supervisor)
    wait_for(lambda: run_pids(running["id"]) == [], 10, "the run's processes to exit")
    assert svc.run(running["id"])["status"] == "running"
    svc.start_worker("crashy")
    reaped = svc.wait(running["id"], timeout=10)
    assert reaped["status"] == "error" and reaped["reason"] == "worker lost"
    types = [e["type"] for e in svc.events(running["id"])]
    assert types[-2:] == ["run.reaped", "run.finished"]
    for run in queued:
        assert svc.wait(run["id"], timeout=60)["status"] == "successful"


def test_a_killed_worker_takes_down_a_run_that_keeps_forking(make_service):
    svc = make_service(workers=0, worker={"slots": 1, "dead_after": 60})
    worker = svc.start_worker("forked")
    run = svc.submit("spawner")
    wait_for(lambda: len(run_pids(run["id"])) > 100, 60, "the run to fork 100 processes")
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    wait_for(lambda: run_pids(run["id"]) == [], 10, "every forked process to exit")


def test_other_workers_reap_a_dead_worker_and_requeue_unstarted_claims(make_service):
    svc = make_service(workers=0, worker={"slots": 1, "dead_after": 2,
                                          "heartbeat_interval": 0.3})
    doomed = svc.start_worker("doomed")
    run = svc.submit("slow_plain", vars={"seconds": 60})
    wait_for(lambda: svc.run(run["id"])["started_at"], 30, "the run to start")
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait()
    survivor = svc.start_worker("survivor")
    reaped = svc.wait(run["id"], timeout=15)
    assert reaped["status"] == "error"
    status = svc.get("/api/v1/status")
    alive = {w["id"]: w["alive"] for w in status["workers"]}
    assert alive == {"doomed": False, "survivor": True}
    assert survivor.poll() is None
    follow_up = svc.submit("quick")
    assert svc.wait(follow_up["id"], timeout=30)["worker"] == "survivor"


def test_worker_id_in_use_is_refused(make_service):
    svc = make_service(workers=0)
    svc.start_worker("only")
    dup = svc.start_worker("only", wait=False)
    assert dup.wait(timeout=30) == 2
    assert "is in use by pid" in svc.log("worker-only")


def test_graceful_stop_drains_then_marks_worker_stopped(make_service):
    svc = make_service(workers=0)
    worker = svc.start_worker("drainer")
    run = svc.submit("slow_plain", vars={"seconds": 2})
    wait_for(lambda: svc.run(run["id"])["started_at"], 30, "the run to start")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0
    assert svc.run(run["id"])["status"] == "successful"
    status = svc.get("/api/v1/status")
    assert [w["alive"] for w in status["workers"]] == [False]
    assert svc.request("GET", "/readyz")[0] == 503


def test_a_run_reaped_from_a_live_worker_stops_its_processes(make_service):
    """If a slow heartbeat makes another worker reap a run, the lock is released: the worker
    that still runs it must stop it rather than overlap the next run of that lock."""
    svc = make_service(workers=0)
    svc.start_worker("slowbeat")
    run = svc.submit("slow_plain", vars={"seconds": 60})
    wait_for(lambda: svc.run(run["id"])["event_counts"]["runner"] >= 3, 30, "the slow task")
    assert run_pids(run["id"])
    store = svc.open_store()
    assert dict(store.reconcile(time.time(), 60, dead_ids=["slowbeat"])) == {run["id"]: "reaped"}
    wait_for(lambda: run_pids(run["id"]) == [], 10, "the reaped run's processes to stop")
    assert svc.run(run["id"])["status"] == "error"
    follow_up = svc.submit("quick")
    assert svc.wait(follow_up["id"], timeout=30)["status"] == "successful"


def test_a_run_claimed_by_a_worker_that_died_before_starting_it_runs_once_elsewhere(make_service):
    """A worker on another host claimed the run, then vanished before starting it: once its
    heartbeat is stale the run goes back to the queue (not to `error`) and runs exactly once."""
    svc = make_service(workers=0, worker={"slots": 1, "dead_after": 2,
                                          "heartbeat_interval": 0.3})
    run = svc.submit("quick")
    store = svc.open_store()
    now = time.time()
    store.heartbeat({"id": "ghost", "host": "elsewhere.example", "pid": 4242, "started_at": now,
                     "heartbeat_at": now, "slots": 1, "busy": 1, "runs": [run["id"]]})
    assert store.claim("ghost", now)["id"] == run["id"]
    assert svc.run(run["id"])["status"] == "running"
    svc.start_worker("survivor")
    done = svc.wait(run["id"], timeout=30)
    assert done["status"] == "successful" and done["worker"] == "survivor"
    lifecycle = [e["type"] for e in svc.events(run["id"]) if e["type"].startswith("run.")]
    assert lifecycle == ["run.queued", "run.requeued", "run.started", "run.finished"]
    requeued = next(e for e in svc.events(run["id"]) if e["type"] == "run.requeued")
    assert requeued["data"] == {"worker": "ghost", "reason": "worker lost"}
