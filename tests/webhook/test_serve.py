"""`python -m webhook serve`: the API and a worker together, stopped together."""

import os
import signal
import time

from tests.webhook.serve_process import Serve, children, state


def test_serve_runs_api_and_worker_and_stops_both(tmp_path):
    serve = Serve(tmp_path)
    svc = serve.svc
    try:
        run = svc.submit("quick", vars={"who": "serve"})
        assert svc.wait(run["id"])["status"] == "successful"
        children = serve.children()
        assert len(children) == 2
    finally:
        serve.stop()
    time.sleep(0.2)
    assert not [c for c in children if os.path.exists(f"/proc/{c}") and state(c) != "Z"]


def test_kill_9_of_the_api_mid_run_loses_nothing(tmp_path):
    serve = Serve(tmp_path)
    svc = serve.svc
    try:
        run = svc.submit("slow_plain", vars={"seconds": 4})
        svc.wait(run["id"], statuses=("running",))
        old = serve.child(b"gunicorn")
        old_workers = children(old)
        assert old_workers
        os.kill(old, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while True:   # a new API answers within 10 s, not an orphan of the old one
            new = serve.child(b"gunicorn")
            try:
                if new not in (None, old) and children(new) \
                        and not any(state(p) not in ("gone", "Z") for p in old_workers) \
                        and svc.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, serve.log()
            time.sleep(0.05)
        assert svc.wait(run["id"], timeout=60)["status"] == "successful"
        log = serve.log()
        assert "api (gunicorn) (pid %d) exited with signal 9" % old in log
        assert "restarting it now" in log   # the first death costs no back-off
        assert "Connection in use" not in log   # no orphan kept the port
    finally:
        serve.stop()


def test_kill_9_of_the_worker_keeps_the_api_up_and_a_new_worker_takes_over(tmp_path):
    import threading
    serve = Serve(tmp_path)
    svc = serve.svc
    misses, done = [], threading.Event()

    def probe():
        while not done.is_set():
            try:
                conn = svc.conn(timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status != 200:
                    misses.append(time.time())
                conn.close()
            except OSError:
                misses.append(time.time())
            time.sleep(0.02)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    try:
        run = svc.submit("slow_plain", vars={"seconds": 60})
        deadline = time.time() + 60
        while svc.run(run["id"])["started_at"] is None:   # claimed only would be re-queued
            assert time.time() < deadline
            time.sleep(0.05)
        old = serve.child(b"webhook\0worker")
        os.kill(old, signal.SIGKILL)
        reaped = svc.wait(run["id"], timeout=60)
        assert reaped["status"] == "error" and reaped["reason"] == "worker lost"
        assert any(e["type"] == "run.reaped" for e in svc.events(run["id"]))
        after = svc.submit("quick", vars={"who": "new worker"})
        final = svc.wait(after["id"], timeout=60)
        assert final["status"] == "successful" and final["worker"] != reaped["worker"]
        assert "worker (pid %d) exited with signal 9" % old in serve.log()
    finally:
        done.set()
        thread.join()
        serve.stop()
    assert misses == []


def test_first_death_restarts_at_once_and_only_a_crash_loop_backs_off():
    from webhook.worker.serve import BACKOFF_MAX, STABLE_AFTER, Child
    child = Child("api", [], {})
    assert [child.delay(1.0) for _ in range(4)] == [0.0, 0.5, 1.0, 2.0]
    assert max(child.delay(1.0) for _ in range(20)) == BACKOFF_MAX
    assert child.delay(STABLE_AFTER) == 0.0   # a stable life ends the loop: no wait again
    assert child.delay(1.0) == 0.5
