"""One run in a worker slot, start to end: the catalog entry, a cancel before the start,
the executor, the outcome recorded, a stop (cancel, timeout, shutdown, reaped) and its
on_cancel clean-up with retries."""

import logging
import time

from ..domain.failure import FailureWatch
from ..executor import Job
from ..store import StoreUnavailable
from .outage import BufferedSink, until_stored

log = logging.getLogger("webhook.worker")

FINISH_RETRY = 1.0  # seconds between attempts to record a run the worker failed


def finish_in_error(worker, run_id):
    """Record the run as failed by the worker, retrying while the store refuses: the slot
    must live on (the heartbeat advertises it), and the run must not stay 'running' under
    a live worker that nobody reaps."""
    while True:
        try:
            worker.store.finish(run_id, "error", None, {"reason": "worker error"})
            return
        except Exception:
            log.exception("run %s: recording its error failed; retrying", run_id)
        if worker.stopping.wait(FINISH_RETRY):
            return  # shutting down: the next start of this worker id reaps the run


def should_stop(worker, run_id):
    last = [0.0]

    def check():
        if worker.stopping.is_set():
            return "shutdown"
        now = time.monotonic()
        if now - last[0] >= 0.05:
            last[0] = now
            try:
                status, owner, cancel = worker.store.run_control(run_id)
            except StoreUnavailable:
                return None   # the run goes on; a cancel is seen once the store is back
            if status != "running" or owner != worker.id:
                # reaped by a reconciler that took us for dead: the run's lock is
                # released, so its processes must not go on
                return "lost"
            if cancel:
                return "cancel"
        return None
    return check


def process(worker, run):
    """Carry a claimed run to its end and record it (the run state machine). A store
    outage on the way is waited out (``outage``): the run keeps running."""
    run_id = run["id"]
    store = worker.store

    def record(call, *args, **kwargs):
        return until_stored(worker, call, *args, **kwargs)

    entry = worker.config.playbooks.get(run["playbook"])
    if entry is None:
        record(store.finish, run_id, "error", None, {
            "reason": f"playbook '{run['playbook']}' is no longer in the catalog"})
        return
    if record(store.cancel_requested, run_id):
        record(store.finish, run_id, "canceled", None, {"reason": "canceled"}, cleaning=True)
        record(store.end_cleanup, run_id, "cancel.applied",
               {"action": "canceled before start", "signals": []})
        return
    secrets = record(store.run_secrets, run_id)
    job = Job(run_id=run_id, ident="main", entry=entry, extravars=dict(run["vars"], **secrets),
              limit=run["limit"], tags=run["tags"], timeout=run["timeout"] or entry.timeout,
              secrets=tuple(secrets.values()))
    events = BufferedSink(store, run_id)

    def started(pid, isolation=None):
        record(store.mark_started, run_id, worker.id, {
            "pid": pid, "playbook": entry.playbook, "inventory": entry.inventory,
            "limit": run["limit"], "tags": run["tags"], "isolation": isolation})

    sink = FailureWatch(events)
    out = worker.executor.execute(job, sink, should_stop(worker, run_id), started)
    events.drain(worker.stopping)   # the run's end is recorded after all its events
    result = {"events": out.events}
    if out.status == "failed" and out.interrupted is None and sink.reason:
        result["reason"] = sink.reason
    if out.leftovers:
        result["leftover_processes"] = out.leftovers
    if out.message:
        result["message"] = out.message
    if out.interrupted is None:
        requested = record(store.cancel_requested, run_id)
        record(store.finish, run_id, out.status, out.rc, result, cleaning=requested)
        if requested:  # the run ended on its own before the signal went out
            record(store.end_cleanup, run_id, "cancel.applied", {
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
    record(store.finish, run_id, status, out.rc, result, cleaning=True)
    applied = {"action": "stopped", "reason": out.interrupted, **(out.kill_report or {})}
    applied["on_cancel"] = run_on_cancel(worker, run, cleanup, secrets, events) \
        if cleanup else None
    events.drain(worker.stopping)
    etype = "cancel.applied" if out.interrupted == "cancel" else "run.interrupted"
    record(store.end_cleanup, run_id, etype, applied)


def run_on_cancel(worker, run, name, secrets, events):
    """Run the on_cancel entry with retries and exponential backoff."""
    cfg = worker.config.cancel
    entry = worker.config.playbooks[name]
    attempts = []
    for attempt in range(1, cfg["cleanup_retries"] + 1):
        job = Job(run_id=run["id"], ident=f"on_cancel-{attempt}", entry=entry,
                  extravars=dict(run["vars"], **secrets), limit=run["limit"], tags=None,
                  timeout=cfg["cleanup_timeout"], phase=f"on_cancel-{attempt}",
                  secrets=tuple(secrets.values()))
        stop = (lambda: "shutdown" if worker.stopping.is_set() else None)
        out = worker.executor.execute(job, events, stop, lambda *_: None)
        attempts.append({"attempt": attempt, "status": out.status, "rc": out.rc})
        if out.status == "successful":
            break
        if attempt < cfg["cleanup_retries"] and not worker.stopping.is_set():
            time.sleep(cfg["cleanup_backoff"] * 2 ** (attempt - 1))
    return {"playbook": name, "status": attempts[-1]["status"], "attempts": attempts}
