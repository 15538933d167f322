"""What a worker does besides running: its heartbeat, reaping the runs of dead workers
(and killing what they left on this host), and retention; ``loop`` runs them in the
worker's housekeeping thread."""

import glob
import logging
import os
import shutil
import time

from ..executor import procs
from ..store import StoreUnavailable

log = logging.getLogger("webhook.worker")


def heartbeat(worker):
    with worker.active_lock:
        runs = sorted(worker.active)
    worker.store.heartbeat({"id": worker.id, "host": worker.host, "pid": os.getpid(),
                            "started_at": worker.started_at, "heartbeat_at": time.time(),
                            "slots": worker.config.worker["slots"], "busy": len(runs),
                            "runs": runs})


def same_host_dead(worker):
    """Workers on this host whose process is gone are dead now, whatever their heartbeat."""
    return [w["id"] for w in worker.store.workers()
            if w["host"] == worker.host and w["id"] != worker.id and w["stopped_at"] is None
            and not procs.alive(w["pid"])]


def reconcile(worker, extra_dead=()):
    """Reap the runs of dead workers (their leftover processes on this host killed) and
    expire queued runs past their TTL."""
    now = time.time()
    actions = worker.store.reconcile(now, worker.config.worker["dead_after"],
                                     dead_ids=list(extra_dead) + same_host_dead(worker))
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
        worker.executor.discard(run_id)
    for run_id in worker.store.expire_queued(now):
        log.info("run %s expired in the queue", run_id)


def prune(worker):
    # workers of earlier starts leave /status once stopped or silent this long
    worker.store.forget_workers(time.time() - max(worker.config.retention["interval"],
                                                  worker.config.worker["dead_after"]))
    before = time.time() - worker.config.retention["finished_runs"]
    for run_id in worker.store.prune(before):
        path = worker.executor.run_dir(run_id)
        if path:
            shutil.rmtree(path, ignore_errors=True)


def loop(worker):
    cfg = worker.config.worker
    next_beat = next_reconcile = 0.0
    next_prune = time.monotonic()
    # after a store outage every worker's last heartbeat is old: nobody is judged dead
    # until the others had dead_after seconds to heartbeat again
    reap_after = 0.0
    outage = False
    while not worker.stopping.is_set():
        now = time.monotonic()
        try:
            if now >= next_beat:
                heartbeat(worker)
                next_beat = now + cfg["heartbeat_interval"]
            if outage:
                log.warning("the store is back; reaping resumes in %.0fs", cfg["dead_after"])
                outage, reap_after = False, now + cfg["dead_after"]
            if now >= next_reconcile and now >= reap_after:
                reconcile(worker)
                next_reconcile = now + cfg["reconcile_interval"]
            if now >= next_prune:
                prune(worker)
                next_prune = now + worker.config.retention["interval"]
        except StoreUnavailable as exc:
            if not outage:
                log.warning("housekeeping: %s", exc)
            outage = True
        except Exception:  # keep heartbeating through a transient store error
            log.exception("housekeeping failed")
        worker.stopping.wait(0.2)
