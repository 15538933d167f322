"""Live event delivery: a per-process notifier and the SSE / stdout generators.

The notifier follows this process's feed of store commits (``Store.changes``): PostgreSQL
pushes the ids of the runs that changed (LISTEN/NOTIFY, from whichever host made them);
SQLite's feed polls ``data_version`` (a read of shared memory, no disk I/O) every
``events.poll_interval`` and says only that something changed. Either way one thread per
process wakes the waiting streams; each stream then reads only the events after its last
sequence number. A stream reads the store only when woken: a keep-alive is written
without a query.
"""

import contextlib
import json
import re
import threading
import time

from ..store import FINAL_STATES


class _Watch:
    def __init__(self):
        self.cond = threading.Condition()
        self.generation = 0
        self.mark = None
        self.refs = 0


class Notifier:
    """Wakes waiting streams when something they show changed.

    :meth:`wait` wakes on any change (the dashboard); :meth:`wait_run` only when its run
    changed (new events, status, clean-up). When the feed names the runs that changed,
    only their streams wake; when it cannot (SQLite, a listener that just reconnected),
    one query for the runs being followed finds which did: a thousand open streams cost
    nothing while their runs are quiet, however busy the rest of the service is."""

    def __init__(self, store, interval):
        self.store, self.interval = store, interval
        self.runs = {}
        self._runs_lock = threading.Lock()
        self._feed = None
        self._start_lock = threading.Lock()

    def _changes(self):
        if self._feed is None:
            with self._start_lock:
                if self._feed is None:
                    feed = self.store.changes(self.interval)
                    feed.subscribe(self._on_change)
                    self._feed = feed
        return self._feed

    def _on_change(self, run_ids):
        with self._runs_lock:
            watched = dict(self.runs)
        if run_ids is None:
            try:
                changed = self._changed_runs(watched)
            except Exception:
                changed = list(watched.values())   # cannot tell: every stream reads again
        else:
            changed = [watched[r] for r in run_ids if r in watched]
        for watch in changed:
            with watch.cond:
                watch.generation += 1
                watch.cond.notify_all()

    def _changed_runs(self, watched):
        if not watched:
            return []
        marks = self.store.run_marks(list(watched))
        changed = []
        for run_id, watch in watched.items():
            mark = marks.get(run_id)
            if mark != watch.mark:
                watch.mark = mark
                changed.append(watch)
        return changed

    def current(self):
        return self._changes().current()

    def wait(self, generation, timeout):
        """Block until something was committed after ``generation`` or ``timeout``."""
        return self._changes().wait(generation, timeout)

    @contextlib.contextmanager
    def watching(self, run_id):
        """Register interest in ``run_id`` for :meth:`wait_run` (before reading its events,
        so no change between the read and the wait is missed)."""
        self._changes()
        watch = self.runs.get(run_id)
        if watch is None:
            # the run as it is now, read before the caller reads its events: a polled feed
            # then wakes the watch only for a later change, not once for being new (which
            # woke every stream of a run on the first commit anywhere after it opened)
            watch = _Watch()
            watch.mark = self.store.run_marks([run_id]).get(run_id)
        with self._runs_lock:
            watch = self.runs.setdefault(run_id, watch)
            watch.refs += 1
        try:
            yield watch
        finally:
            with self._runs_lock:
                watch.refs -= 1
                if not watch.refs:
                    self.runs.pop(run_id, None)

    @staticmethod
    def wait_run(watch, generation, timeout):
        with watch.cond:
            watch.cond.wait_for(lambda: watch.generation != generation, timeout)
            return watch.generation


def envelope(event):
    return {"seq": event["seq"], "type": event["type"], "ts": event["ts"], "data": event["data"]}


def sse_format(event):
    data = json.dumps(envelope(event), separators=(",", ":"), default=str)
    return f"id: {event['seq']}\nevent: {event['type']}\ndata: {data}\n\n"


def run_closed(run):
    return run is None or (run["status"] in FINAL_STATES and not run["cleaning"])


def follow(store, notifier, run_id, after, page, keepalive):
    """Yield ('event', e) for every event after ``after``, ('keepalive', None) when nothing
    was sent for ``keepalive`` seconds, and finally ('end', run) once the run is over and
    every event was sent."""
    with notifier.watching(run_id) as watch:
        generation = watch.generation
        last_sent = time.monotonic()
        while True:
            events = store.events_after(run_id, after, page)
            for event in events:
                after = event["seq"]
                yield "event", event
            if events:
                last_sent = time.monotonic()
            if len(events) == page:
                continue
            # checked after every read, not only an empty one: run.finished is the run's last
            # commit, so a stream that has just sent it gets no further wake-up to end on
            run = store.get_run(run_id)
            if run_closed(run):
                # the final status and run.finished commit together: drain what is left
                if not store.events_after(run_id, after, page):
                    yield "end", run
                    return
                continue
            while True:
                idle = time.monotonic() - last_sent
                if idle >= keepalive:
                    yield "keepalive", None
                    last_sent = time.monotonic()
                    idle = 0.0
                woken = notifier.wait_run(watch, generation, keepalive - idle)
                if woken != generation:
                    generation = woken
                    break


def sse(store, notifier, run_id, after, page, keepalive):
    yield "retry: 1000\n\n"
    for kind, item in follow(store, notifier, run_id, after, page, keepalive):
        if kind == "event":
            yield sse_format(item)
        elif kind == "keepalive":
            yield ": keep-alive\n\n"
        else:
            status = item["status"] if item else None
            yield f"event: end\ndata: {json.dumps({'status': status})}\n\n"


def stdout_chunks(store, notifier, run_id, page, keepalive, live):
    """The run's text output, assembled from the runner events' ``stdout`` fields."""
    after = 0
    if not live:
        while True:
            events = store.events_after(run_id, after, page)
            if not events:
                return
            for event in events:
                after = event["seq"]
                text = _stdout(event)
                if text:
                    yield text
        return
    yield ""   # the answer's head goes out now: the client knows it is following
    for kind, item in follow(store, notifier, run_id, after, page, keepalive):
        if kind == "event":
            text = _stdout(item)
            if text:
                yield text
        elif kind == "keepalive":
            yield ""


# colour and cursor sequences: ansible colours what it writes to the runner's pty
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _stdout(event):
    data = event["data"]
    if "." in event["type"] or not isinstance(data, dict):
        return ""
    text = _ANSI.sub("", (data.get("stdout") or "").replace("\r\n", "\n"))   # the runner reads a pty
    return text + "\n" if text else ""
