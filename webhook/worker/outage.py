"""A running run outlives a store outage (a database restart or failover): its events wait
in memory, in order, and are written once the store is back; the records that end it
(finish, clean-up) are retried until they are stored. Only ``StoreUnavailable`` is waited
out: any other store error is a bug and surfaces as before."""

import logging
import threading
import time

from ..store import StoreUnavailable

log = logging.getLogger("webhook.worker")

RETRY = 1.0   # seconds between attempts while the store is unavailable


def until_stored(worker, call, *args, **kwargs):
    """``call(*args, **kwargs)``, retried while the store is unavailable (given up only
    when the worker is shutting down: its next start reaps what it could not record)."""
    warned = False
    while True:
        try:
            return call(*args, **kwargs)
        except StoreUnavailable as exc:
            if not warned:
                log.warning("%s: %s; retrying every %.0fs", call.__name__, exc, RETRY)
                warned = True
            if worker.stopping.wait(RETRY):
                raise


class BufferedSink:
    """The event sink of one run. The executor's reader thread calls it; it never blocks
    that thread for a whole outage (the run's output would back up into the playbook):
    while the store is unavailable, events queue here and a flusher thread writes them,
    in order, when it is back."""

    def __init__(self, store, run_id):
        self.store, self.run_id = store, run_id
        self.pending = []
        self.flushing = False
        self.lock = threading.Lock()
        self.drained = threading.Condition(self.lock)

    def __call__(self, events):
        with self.lock:
            self.pending.extend(events)
            if self.flushing:
                return None    # the flusher writes them after the ones before
        if self._write():
            return None
        with self.lock:
            self.flushing = True
        threading.Thread(target=self._flush_loop, name=f"flush-{self.run_id}",
                         daemon=True).start()
        return None

    def _write(self):
        """Write what is pending; False if the store is unavailable (nothing is lost)."""
        with self.lock:
            batch = list(self.pending)
        if not batch:
            return True
        try:
            self.store.append_events(self.run_id, batch)
        except StoreUnavailable as exc:
            log.warning("run %s: %d events wait for the store: %s", self.run_id, len(batch),
                        exc)
            return False
        with self.lock:
            del self.pending[:len(batch)]
        return True

    def _flush_loop(self):
        while True:
            time.sleep(RETRY)
            if not self._write():
                continue
            with self.lock:
                if not self.pending:
                    self.flushing = False
                    self.drained.notify_all()
                    return

    def drain(self, stopping):
        """Wait until every event is stored (before the run's end is recorded after them)."""
        with self.lock:
            while self.flushing and not stopping.is_set():
                self.drained.wait(RETRY)
