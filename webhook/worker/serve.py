"""``python -m webhook serve``: the API (gunicorn) and one worker, each restarted alone.

The two share nothing but the store, so neither depends on the other being up: a run keeps
going while the API restarts, and the API keeps answering while the worker restarts (the
new worker's reconciler reaps the runs the dead one had started). A child that dies is
started again at once; only when it dies again without having lived ``STABLE_AFTER`` s
does a back-off apply (``BACKOFF_FIRST`` s, doubled up to ``BACKOFF_MAX`` s), so one crash
costs no wait and a crash loop does not spin. The log says which child died, how, and when
it comes back. SIGTERM/SIGINT are passed to both and end the loop.
"""

import dataclasses
import logging
import os
import signal
import subprocess
import sys
import time
from typing import List, Optional

from ..executor.procs import PR_SET_PDEATHSIG, prctl
from ..domain.run_env import without_hook_secrets

log = logging.getLogger("webhook.serve")

BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0
STABLE_AFTER = 60.0
HERE = os.path.dirname(os.path.abspath(__file__))


def _die_with_serve():
    prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclasses.dataclass
class Child:
    name: str
    argv: List[str]
    env: dict
    proc: Optional[subprocess.Popen] = None
    started: float = 0.0
    quick_deaths: int = 0   # deaths in a row, each before STABLE_AFTER
    restart_at: Optional[float] = None
    restarts: int = 0

    def start(self):
        self.proc = subprocess.Popen(self.argv, env=self.env, preexec_fn=_die_with_serve)
        self.started = time.monotonic()
        self.restart_at = None
        log.info("serve: %s started (pid %d)", self.name, self.proc.pid)

    def check(self, now):
        """Restart a dead child once its back-off has passed."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.restarts += 1
                self.start()
            return
        code = self.proc.poll()
        if code is None:
            return
        lived = now - self.started
        delay = self.delay(lived)
        how = f"signal {-code}" if code < 0 else f"code {code}"
        log.error("serve: %s (pid %d) exited with %s after %.1fs; restarting it %s "
                  "(restart %d)", self.name, self.proc.pid, how, lived,
                  f"in {delay:.1f}s" if delay else "now", self.restarts + 1)
        self.restart_at = now + delay
        if not delay:
            self.check(now)

    def delay(self, lived):
        """No wait after a death that ended a stable life; doubling waits while it keeps
        dying young."""
        if lived >= STABLE_AFTER:
            self.quick_deaths = 0
        self.quick_deaths += 1
        if self.quick_deaths == 1:
            return 0.0
        return min(BACKOFF_FIRST * 2 ** (self.quick_deaths - 2), BACKOFF_MAX)


def serve(config):
    env = dict(os.environ)
    children = [
        Child("api (gunicorn)", [sys.executable, "-m", "gunicorn", "-c",
                                 os.path.join(HERE, "..", "gunicorn.conf.py"), "webhook:create_app()"],
              env),
        # only the API verifies deliveries: the worker (and so every run) never sees hook
        # secrets
        Child("worker", [sys.executable, "-m", "webhook", "worker"],
              without_hook_secrets(config, env)),
    ]
    stop = {"sig": None}

    def forward(signum, _frame):
        stop["sig"] = signum
        for child in children:
            if child.proc and child.proc.poll() is None:
                child.proc.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for child in children:
        child.start()
    while stop["sig"] is None:
        now = time.monotonic()
        for child in children:
            child.check(now)
        time.sleep(0.1)
    forward(stop["sig"], None)   # also a child (re)started while the signal arrived
    for child in children:
        try:
            child.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.proc.kill()
            child.proc.wait()
    return 0
