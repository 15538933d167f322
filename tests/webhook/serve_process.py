"""`python -m webhook serve` started for a test: the API and a worker under one supervisor."""

import signal
import subprocess
import sys
import time

from tests.webhook.conftest import ROOT, Service, _die_with_parent


def state(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0].decode()
    except OSError:
        return "gone"


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []


class Serve:
    """`python -m webhook serve` for a test (ready when it returns), its children found by
    their command lines. ``svc`` is the Service whose config it serves; ``env`` adds to it."""

    def __init__(self, tmp_path, svc=None, env=None):
        self.svc = svc or Service(tmp_path)
        self.log_path = tmp_path / "serve.log"
        self.proc = subprocess.Popen([sys.executable, "-m", "webhook", "serve"],
                                     env=dict(self.svc.env, **(env or {})), cwd=ROOT,
                                     stdout=open(self.log_path, "wb"),
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

    def children(self):
        return children(self.proc.pid)

    def child(self, needle):
        for pid in self.children():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    if needle in handle.read():
                        return pid
            except OSError:
                continue
        return None

    def log(self):
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=30) == 0
