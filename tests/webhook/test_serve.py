"""`python -m webhook serve`: the API and a worker together, stopped together."""

import os
import signal
import subprocess
import sys
import time

from tests.webhook.conftest import ROOT, Service, _die_with_parent


def test_serve_runs_api_and_worker_and_stops_both(tmp_path):
    svc = Service(tmp_path)
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "webhook", "serve"], env=svc.env, cwd=ROOT,
                            stdout=log, stderr=log, preexec_fn=_die_with_parent)
    try:
        deadline = time.time() + 30
        while True:
            try:
                if svc.request("GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.time() < deadline and proc.poll() is None, svc.log("serve")
            time.sleep(0.1)
        run = svc.submit("quick", vars={"who": "serve"})
        assert svc.wait(run["id"])["status"] == "successful"
        children = [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(p) == proc.pid]
        assert len(children) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    time.sleep(0.2)
    assert not [c for c in children if os.path.exists(f"/proc/{c}") and _state(c) != "Z"]


def _ppid(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return int(handle.read().rsplit(b")", 1)[1].split()[1])
    except OSError:
        return None


def _state(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0].decode()
    except OSError:
        return "gone"


class Serve:
    """`python -m webhook serve` for a test, its children found by their command lines."""

    def __init__(self, tmp_path):
        self.svc = Service(tmp_path)
        self.log_path = tmp_path / "serve.log"
        self.proc = subprocess.Popen([sys.executable, "-m", "webhook", "serve"],
                                     env=self.svc.env, cwd=ROOT, stdout=open(self.log_path, "wb"),
                                     stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        self.wait_ready()

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while True:
            try:
                if self.svc.request("GET", "/readyz")[0] == 200:
                    return
            except OSError:
                pass
            assert time.time() < deadline and self.proc.poll() is None, self.log()
            time.sleep(0.05)

    def child(self, needle):
        for pid in os.listdir("/proc"):
            if pid.isdigit() and _ppid(pid) == self.proc.pid:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    if needle in handle.read():
                        return int(pid)
        return None

    def log(self):
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=30) == 0


def test_kill_9_of_the_api_mid_run_loses_nothing(tmp_path):
    serve = Serve(tmp_path)
    svc = serve.svc
    try:
        run = svc.submit("slow_plain", vars={"seconds": 4})
        svc.wait(run["id"], statuses=("running",))
        old = serve.child(b"gunicorn")
        os.kill(old, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while True:   # a new API answers within 10 s (the old one's workers die with it)
            new = serve.child(b"gunicorn")
            try:
                if new not in (None, old) and f"({new})" in serve.log() \
                        and svc.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, serve.log()
            time.sleep(0.05)
        assert svc.wait(run["id"], timeout=60)["status"] == "successful"
        assert "api (gunicorn)" in serve.log() and "exited with signal 9" in serve.log()
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
