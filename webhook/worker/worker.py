"""The worker process: its lifecycle (start, drain, stop) and N slots claiming runs; each
run is carried through by ``runs``, the heartbeat, reaping and retention by ``housekeeping``.

Idle slots wait on the process's feed of store commits (``Store.changes``: PostgreSQL's
LISTEN/NOTIFY, SQLite's ``data_version`` polled every ``worker.poll_interval``) and try a
claim when a run entered or left the queue, so a new run starts within a few milliseconds
without hammering the database.
"""

import logging
import os
import signal
import socket
import threading
import time

from ..executor import procs
from ..executor.backends import make_executor
from ..store import worker_alive
from ..store.backends import open_store
from . import housekeeping, runs

log = logging.getLogger("webhook.worker")

CLAIM_RETRY = 0.5  # seconds: retry a claim even without news (locks freed, TTLs passed)


class WorkerIdInUse(RuntimeError):
    pass


class Worker:
    def __init__(self, config, store=None, executor=None):
        self.config = config
        self.store = store or open_store(config)
        self.executor = executor or make_executor(config)
        self.id = config.worker_id()
        self.host = socket.gethostname()
        self.started_at = time.time()
        self.draining = threading.Event()   # stop claiming
        self.stopping = threading.Event()   # interrupt running runs too
        self.active = {}
        self.active_lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------------
    def start(self):
        self._check_id()
        # a restarted worker reaps the runs it owned before it died
        housekeeping.reconcile(self, extra_dead=[self.id])
        housekeeping.heartbeat(self)
        self.slots = [threading.Thread(target=self._slot, name=f"slot-{i}", daemon=True)
                      for i in range(self.config.worker["slots"])]
        self.housekeeper = threading.Thread(target=housekeeping.loop, args=(self,),
                                            name="housekeeping", daemon=True)
        for thread in self.slots + [self.housekeeper]:
            thread.start()
        log.info("worker %s started with %d slots", self.id, self.config.worker["slots"])

    def stop(self, interrupt=False):
        self.draining.set()
        if interrupt:
            self.stopping.set()

    def wait(self):
        for thread in self.slots:
            thread.join()
        self.stopping.set()
        self.housekeeper.join(timeout=5)
        self.store.worker_stopped(self.id)

    def _check_id(self):
        for w in self.store.workers():
            if (w["id"] == self.id and w["host"] == self.host and w["pid"] != os.getpid()
                    and procs.alive(w["pid"])
                    and worker_alive(w, time.time(), self.config.worker["dead_after"])):
                raise WorkerIdInUse(f"worker id '{self.id}' is in use by pid {w['pid']} on "
                                    f"{self.host}; set worker.id or --id to another name")

    # -- slots --------------------------------------------------------------------------------
    def _slot(self):
        changes = self.store.changes(self.config.worker["poll_interval"])
        while not self.draining.is_set():
            # read before the claim: a run queued between the claim and the wait wakes it
            generation = changes.current(queue=True)
            try:
                run = self.store.claim(self.id, time.time())
            except Exception:
                log.exception("claim failed")
                time.sleep(1)
                continue
            if run is None:
                changes.wait(generation, CLAIM_RETRY, queue=True)
                continue
            with self.active_lock:
                self.active[run["id"]] = run
            try:
                runs.process(self, run)
            except Exception:
                log.exception("run %s failed in the worker", run["id"])
                runs.finish_in_error(self, run["id"])
            finally:
                with self.active_lock:
                    self.active.pop(run["id"], None)


def run_worker(config):
    """Entry point of ``python -m webhook worker``: SIGTERM drains, a second one interrupts."""
    worker = Worker(config)
    signals = {"count": 0}

    def on_signal(signum, _frame):
        signals["count"] += 1
        worker.stop(interrupt=signals["count"] > 1 or signum == signal.SIGINT)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker.start()
    while any(t.is_alive() for t in worker.slots):
        time.sleep(0.2)
    worker.wait()
    return 0
