"""The run store: one interface, two engines (``store.url`` in the config): SQLite, the
embedded default, and PostgreSQL for many hosts (``.sql`` holds what they share).

Runs and events are plain dicts.  A run dict has: id, playbook, vars, limit, tags, priority,
lock_key, status, created_at, claimed_at, started_at, finished_at, rc, worker_id,
cancel_requested_at, cleaning, result, expires_at, timeout, last_seq.
An event dict has: seq, type, ts, data.
"""

import abc
import os
import threading
import time

from .changes import Changes, poll_tokens

QUEUED = "queued"
RUNNING = "running"
FINAL_STATES = ("successful", "failed", "canceled", "error")
STATES = (QUEUED, RUNNING) + FINAL_STATES


def worker_alive(worker, now, dead_after):
    """Whether a worker (a dict of ``Store.workers()``) counts as alive at ``now``: not
    stopped, and its last heartbeat younger than ``worker.dead_after`` seconds."""
    return worker["stopped_at"] is None and now - (worker["heartbeat_at"] or 0) < dead_after


class QueueFull(Exception):
    def __init__(self, depth):
        super().__init__(f"queue is full ({depth} runs queued)")
        self.depth = depth


class IdempotencyConflict(Exception):
    """An Idempotency-Key was reused for a different request."""


class StoreError(RuntimeError):
    """The store cannot be used; the message says which one, why and what to do."""


class StoreUnavailable(StoreError):
    """The store's server cannot be reached."""


class SchemaError(StoreError):
    """The store's schema is not the one this code knows (run `python -m webhook migrate`)."""


class Store(abc.ABC):
    @abc.abstractmethod
    def submit(self, run: dict, idempotency_key, request_hash, max_depth, secrets=None) -> tuple:
        """Insert a queued run and its run.queued event; return (run, created). ``secrets``
        (values of vars declared secret) are kept apart and deleted when the run is over."""

    @abc.abstractmethod
    def run_secrets(self, run_id) -> dict:
        """The secret vars of a run that is not over yet ({} once it is)."""

    @abc.abstractmethod
    def get_run(self, run_id): ...

    @abc.abstractmethod
    def list_runs(self, status=None, playbook=None, limit=50, offset=0) -> tuple:
        """Return (runs newest first, total)."""

    @abc.abstractmethod
    def queue_position(self, run_id): ...

    @abc.abstractmethod
    def event_counts(self, run_id) -> dict: ...

    @abc.abstractmethod
    def append_events(self, run_id, events) -> int:
        """Append [(type, data, ts)] in order; return the last sequence number."""

    @abc.abstractmethod
    def events_after(self, run_id, after, limit) -> list: ...

    @abc.abstractmethod
    def claim(self, worker_id, now): ...

    @abc.abstractmethod
    def mark_started(self, run_id, worker_id, data): ...

    @abc.abstractmethod
    def forget_workers(self, before) -> list:
        """Delete workers stopped, or silent, since before ``before``; return their ids."""

    @abc.abstractmethod
    def finish(self, run_id, status, rc, result, cleaning=False): ...

    @abc.abstractmethod
    def end_cleanup(self, run_id, etype, payload): ...

    @abc.abstractmethod
    def request_cancel(self, run_id) -> tuple:
        """Persist a cancel request; return (run, outcome) with outcome one of
        'canceled' (was queued), 'requested', 'repeated', 'finished', None (unknown)."""

    @abc.abstractmethod
    def cancel_requested(self, run_id) -> bool: ...

    @abc.abstractmethod
    def run_control(self, run_id) -> tuple:
        """(status, worker_id, cancel requested) of a run, for the worker's watch loop."""

    @abc.abstractmethod
    def heartbeat(self, worker: dict): ...

    @abc.abstractmethod
    def worker_stopped(self, worker_id): ...

    @abc.abstractmethod
    def workers(self) -> list: ...

    @abc.abstractmethod
    def reconcile(self, now, dead_after, dead_ids=()) -> list:
        """Reap runs of dead workers, re-queue stale claims; return [(run_id, action)]."""

    @abc.abstractmethod
    def expire_queued(self, now) -> list: ...

    @abc.abstractmethod
    def prune(self, before) -> list:
        """Delete runs finished before ``before`` (return their ids) and expired hook
        entries."""

    @abc.abstractmethod
    def queue_stats(self, now) -> dict: ...

    @abc.abstractmethod
    def count_rejected(self, reason): ...

    @abc.abstractmethod
    def counters(self) -> list: ...

    @abc.abstractmethod
    def ping(self) -> bool: ...

    @abc.abstractmethod
    def first_use(self, key, window, now=None) -> bool:
        """Record ``key`` (a signed hook request); True unless any process of any host
        recorded it within ``2 * window`` seconds. Atomic: of concurrent callers, one wins."""

    @abc.abstractmethod
    def alias(self, alias, key, window, now=None) -> str:
        """Map ``alias`` to ``key`` unless it was mapped within ``window`` seconds; return
        the key ``alias`` maps to (the first mapping wins). Expired entries go at
        :meth:`prune`."""

    @abc.abstractmethod
    def run_marks(self, run_ids) -> dict:
        """{run id: a value that changes with its events, status or clean-up}."""

    @abc.abstractmethod
    def change_token(self):
        """A cheap value that changes whenever another process commits."""

    def changes(self, interval):
        """This process's feed of commits to this store (:class:`changes.Changes`); an
        engine without notifications polls :meth:`change_token` every ``interval``."""
        lock = self.__dict__.setdefault("_changes_lock", threading.Lock())
        with lock:
            feed = self.__dict__.get("_changes")
            if feed is None or feed[0] != os.getpid():
                feed = self._changes = (os.getpid(), Changes(self._follow_changes, interval))
        return feed[1]

    def _follow_changes(self, interval, emit):
        poll_tokens(self, interval, emit, time.sleep)

    def close(self):
        """Release this process's connections (the store may still be used afterwards)."""
