"""What this process learns of the commits of every process: one feed per process and
store (``Store.changes()``), shared by the API's streams and the worker's idle slots.

A backend's ``_follow_changes(interval, emit)`` runs in the feed's thread and calls
``emit(run_ids, queue_moved)`` after commits: the ids of the runs that changed, or None
when it cannot tell which (anything may have changed: SQLite's polled ``data_version``,
or the moment PostgreSQL's listener (re)connected, when a catch-up read finds what was
committed while nobody listened), and whether a run entered or left the queue or released
its lock (what idle workers wait for; new events of a running run do not wake them).
The feed counts these in ``generation`` / ``queue_generation`` and passes the ids to its
subscribers.
"""

import logging
import threading

log = logging.getLogger("webhook.store")


class Changes:
    def __init__(self, follow, interval):
        self._follow, self.interval = follow, interval
        self.generation = 0
        self.queue_generation = 0
        self.cond = threading.Condition()
        self._subscribers = []
        self._thread = None
        self._start_lock = threading.Lock()

    def subscribe(self, callback):
        """``callback(run_ids or None)`` after every change, in the feed's thread."""
        self._subscribers.append(callback)
        self.start()

    def start(self):
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._follow, name="store-changes",
                                                    args=(self.interval, self._emit), daemon=True)
                    self._thread.start()

    def current(self, queue=False):
        """The generation now (read it before looking at the store, then :meth:`wait`);
        ``queue``: of the changes that may let a worker claim a run."""
        self.start()
        return self.queue_generation if queue else self.generation

    def wait(self, generation, timeout, queue=False):
        """Block until a change after ``generation`` or ``timeout``; the generation then."""
        attr = "queue_generation" if queue else "generation"
        with self.cond:
            self.cond.wait_for(lambda: getattr(self, attr) != generation, timeout)
            return getattr(self, attr)

    def _emit(self, run_ids, queue_moved=True):
        # subscribers first: whoever sees the generation move knows they have been told
        for callback in list(self._subscribers):
            try:
                callback(run_ids)
            except Exception:   # the feed must outlive a subscriber's bug
                log.exception("a subscriber of the store's changes failed")
        with self.cond:
            self.generation += 1
            if queue_moved or run_ids is None:
                self.queue_generation += 1
            self.cond.notify_all()


def poll_tokens(store, interval, emit, sleep):
    """The feed of an engine without notifications: ``store.change_token()`` every
    ``interval`` (an unseen change is retried at the next poll if the read fails)."""
    last = None
    while last is None:
        try:
            last = store.change_token()
        except Exception:
            sleep(max(interval, 0.5))
    while True:
        sleep(interval)
        try:
            token = store.change_token()
        except Exception:
            continue
        if token != last:
            last = token
            emit(None)
