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
