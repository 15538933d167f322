"""The worker process: N slots claiming runs, a heartbeat, and the reconciler.

Idle slots watch SQLite's ``data_version`` (it changes when another process commits) every
``worker.poll_interval`` and only then try a claim, so a new run starts within a few
milliseconds without hammering the database.
"""

import glob
import logging
import os
import shutil
import signal
import socket
import threading
import time

from .. import store as store_mod
from ..executor import Job, make_executor, procs
from ..domain.failure import FailureWatch

log = logging.getLogger("webhook.worker")

CLAIM_RETRY = 0.5  # seconds: retry a claim even without news (locks freed, TTLs passed)


class WorkerIdInUse(RuntimeError):
    pass


class Worker:
    def __init__(self, config, store=None, executor=None):
        self.config = config
        self.store = store or store_mod.open_store(config)
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
        self._reconcile(extra_dead=[self.id])
        self._heartbeat()
        threads = [threading.Thread(target=self._slot, name=f"slot-{i}", daemon=True)
                   for i in range(self.config.worker["slots"])]
        threads.append(threading.Thread(target=self._loop, name="housekeeping", daemon=True))
        for thread in threads:
            thread.start()
        self.threads = threads
        log.info("worker %s started with %d slots", self.id, self.config.worker["slots"])

    def stop(self, interrupt=False):
        self.draining.set()
        if interrupt:
            self.stopping.set()

    def wait(self):
        for thread in self.threads[:-1]:
            thread.join()
        self.stopping.set()
        self.threads[-1].join(timeout=5)
        self.store.worker_stopped(self.id)

    def _check_id(self):
        for w in self.store.workers():
            if (w["id"] == self.id and w["stopped_at"] is None and w["host"] == self.host
                    and w["pid"] != os.getpid() and procs.alive(w["pid"])
                    and time.time() - (w["heartbeat_at"] or 0) < self.config.worker["dead_after"]):
                raise WorkerIdInUse(f"worker id '{self.id}' is in use by pid {w['pid']} on "
                                    f"{self.host}; set worker.id or --id to another name")

    # -- housekeeping -----------------------------------------------------------------------
    def _heartbeat(self):
        with self.active_lock:
            runs = sorted(self.active)
        self.store.heartbeat({"id": self.id, "host": self.host, "pid": os.getpid(),
                              "started_at": self.started_at, "heartbeat_at": time.time(),
                              "slots": self.config.worker["slots"], "busy": len(runs),
                              "runs": runs})

    def _same_host_dead(self):
        """Workers on this host whose process is gone are dead now, whatever their heartbeat."""
        return [w["id"] for w in self.store.workers()
                if w["host"] == self.host and w["id"] != self.id and w["stopped_at"] is None
                and not procs.alive(w["pid"])]

    def _reconcile(self, extra_dead=()):
        now = time.time()
        actions = self.store.reconcile(now, self.config.worker["dead_after"],
                                       dead_ids=list(extra_dead) + self._same_host_dead())
        for run_id, action in actions:
            log.warning("run %s %s (its worker is gone)", run_id, action)
            if action != "requeued":  # processes the dead worker left on this host
                cgroups = glob.glob(procs.run_cgroup(run_id, "*") or "/nonexistent")

                def left(rid=run_id, groups=cgroups):
                    found = procs.run_processes(rid)
                    for group in groups:
                        found |= procs.cgroup_pids(group)
                    return found
                procs.escalate(left, [], kill_wait=2)
                for group in cgroups:
                    procs.remove_cgroup(group)
            self.executor.discard(run_id)
        for run_id in self.store.expire_queued(now):
            log.info("run %s expired in the queue", run_id)

    def _prune(self):
        # workers of earlier starts leave /status once stopped or silent this long
        self.store.forget_workers(time.time() - max(self.config.retention["interval"],
                                                    self.config.worker["dead_after"]))
        before = time.time() - self.config.retention["finished_runs"]
        for run_id in self.store.prune(before):
            path = self.executor.run_dir(run_id)
            if path:
                shutil.rmtree(path, ignore_errors=True)

    def _loop(self):
        cfg = self.config.worker
        next_beat = next_reconcile = 0.0
        next_prune = time.monotonic()
        while not self.stopping.is_set():
            now = time.monotonic()
            try:
                if now >= next_beat:
                    self._heartbeat()
                    next_beat = now + cfg["heartbeat_interval"]
                if now >= next_reconcile:
                    self._reconcile()
                    next_reconcile = now + cfg["reconcile_interval"]
                if now >= next_prune:
                    self._prune()
                    next_prune = now + self.config.retention["interval"]
            except Exception:  # keep heartbeating through a transient store error
                log.exception("housekeeping failed")
            self.stopping.wait(0.2)

    # -- slots --------------------------------------------------------------------------------
    def _slot(self):
        poll = self.config.worker["poll_interval"]
        seen, last_try = None, 0.0
        while not self.draining.is_set():
            try:
                token = self.store.change_token()
                now = time.monotonic()
                if token == seen and now - last_try < CLAIM_RETRY:
                    time.sleep(poll)
                    continue
                seen, last_try = token, now
                run = self.store.claim(self.id, time.time())
            except Exception:
                log.exception("claim failed")
                time.sleep(1)
                continue
            if run is None:
                time.sleep(poll)
                continue
            seen = None
            with self.active_lock:
                self.active[run["id"]] = run
            try:
                self._process(run)
            except Exception:
                log.exception("run %s failed in the worker", run["id"])
                self.store.finish(run["id"], "error", None, {"reason": "worker error"})
            finally:
                with self.active_lock:
                    self.active.pop(run["id"], None)

    def _should_stop(self, run_id):
        last = [0.0]

        def check():
            if self.stopping.is_set():
                return "shutdown"
            now = time.monotonic()
            if now - last[0] >= 0.05:
                last[0] = now
                status, owner, cancel = self.store.run_control(run_id)
                if status != "running" or owner != self.id:
                    # reaped by a reconciler that took us for dead: the run's lock is
                    # released, so its processes must not go on
                    return "lost"
                if cancel:
                    return "cancel"
            return None
        return check

    def _sink(self, run_id):
        return lambda events: self.store.append_events(run_id, events)

    def _process(self, run):
        run_id = run["id"]
        entry = self.config.playbooks.get(run["playbook"])
        if entry is None:
            self.store.finish(run_id, "error", None, {
                "reason": f"playbook '{run['playbook']}' is no longer in the catalog"})
            return
        if self.store.cancel_requested(run_id):
            self.store.finish(run_id, "canceled", None, {"reason": "canceled"}, cleaning=True)
            self.store.end_cleanup(run_id, "cancel.applied",
                                   {"action": "canceled before start", "signals": []})
            return
        secrets = self.store.run_secrets(run_id)
        job = Job(run_id=run_id, ident="main", entry=entry, extravars=dict(run["vars"], **secrets),
                  limit=run["limit"], tags=run["tags"], timeout=run["timeout"] or entry.timeout,
                  secrets=tuple(secrets.values()))

        def started(pid, isolation=None):
            self.store.mark_started(run_id, self.id, {
                "pid": pid, "playbook": entry.playbook, "inventory": entry.inventory,
                "limit": run["limit"], "tags": run["tags"], "isolation": isolation})

        sink = FailureWatch(self._sink(run_id))
        out = self.executor.execute(job, sink, self._should_stop(run_id), started)
        result = {"events": out.events}
        if out.status == "failed" and out.interrupted is None and sink.reason:
            result["reason"] = sink.reason
        if out.leftovers:
            result["leftover_processes"] = out.leftovers
        if out.message:
            result["message"] = out.message
        if out.interrupted is None:
            requested = self.store.cancel_requested(run_id)
            self.store.finish(run_id, out.status, out.rc, result, cleaning=requested)
            if requested:  # the run ended on its own before the signal went out
                self.store.end_cleanup(run_id, "cancel.applied", {
                    "action": f"none: the run finished ({out.status}) before the cancel applied",
                    "signals": []})
            return
        if out.interrupted == "lost":
            log.warning("run %s was reaped while this worker ran it; its processes were "
                        "stopped", run_id)
            return
        status = {"cancel": "canceled", "timeout": "failed", "shutdown": "error"}[out.interrupted]
        result.update(reason={"cancel": "canceled", "timeout": f"timed out after {job.timeout}s",
                              "shutdown": "worker shut down"}[out.interrupted])
        cleanup = entry.on_cancel if out.interrupted in ("cancel", "timeout") else None
        self.store.finish(run_id, status, out.rc, result, cleaning=True)
        applied = {"action": "stopped", "reason": out.interrupted, **(out.kill_report or {})}
        applied["on_cancel"] = self._cleanup(run, cleanup, secrets) if cleanup else None
        etype = "cancel.applied" if out.interrupted == "cancel" else "run.interrupted"
        self.store.end_cleanup(run_id, etype, applied)

    def _cleanup(self, run, name, secrets):
        """Run the on_cancel entry with retries and exponential backoff."""
        cfg = self.config.cancel
        entry = self.config.playbooks[name]
        attempts = []
        for attempt in range(1, cfg["cleanup_retries"] + 1):
            job = Job(run_id=run["id"], ident=f"on_cancel-{attempt}", entry=entry,
                      extravars=dict(run["vars"], **secrets), limit=run["limit"], tags=None,
                      timeout=cfg["cleanup_timeout"], phase=f"on_cancel-{attempt}",
                      secrets=tuple(secrets.values()))
            stop = (lambda: "shutdown" if self.stopping.is_set() else None)
            out = self.executor.execute(job, self._sink(run["id"]), stop, lambda *_: None)
            attempts.append({"attempt": attempt, "status": out.status, "rc": out.rc})
            if out.status == "successful":
                break
            if attempt < cfg["cleanup_retries"] and not self.stopping.is_set():
                time.sleep(cfg["cleanup_backoff"] * 2 ** (attempt - 1))
        return {"playbook": name, "status": attempts[-1]["status"], "attempts": attempts}


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
    while any(t.is_alive() for t in worker.threads[:-1]):
        time.sleep(0.2)
    worker.wait()
    return 0
