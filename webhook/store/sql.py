"""What the SQLite and PostgreSQL run stores share: every query and state change, written
once in SQL both engines accept (``?`` placeholders; the PostgreSQL store translates them).

A backend supplies the plumbing: ``_tx()`` (a write transaction yielding a cursor),
``_read()``, ``change_token()``, the row-locking suffixes ``FOR_UPDATE`` / ``CLAIM_LOCK``
(empty for SQLite, whose write transactions are exclusive anyway) and ``_housekeeping()``,
which makes the reaper, TTL expiry and retention run one process at a time.
Metric counters and histograms live in the ``counters`` table and are bumped in the same
transaction as the change they count, so every process reports the same totals.
"""

import json
import time

from . import (FINAL_STATES, QUEUED, RUNNING, IdempotencyConflict, QueueFull, Store,
               worker_alive)

RUN_COLUMNS = ("id, playbook, vars, lim, tags, priority, lock_key, status, created_at, "
               "expires_at, claimed_at, started_at, finished_at, rc, worker_id, "
               "cancel_requested_at, cleaning, timeout, result, last_seq")

BUCKETS = {
    "queue_latency_seconds": (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
    "run_duration_seconds": (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200),
    "cancel_latency_seconds": (0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
}

# A lock key is held by a running run and by a canceled run whose clean-up still runs.
CLAIM_SQL = """
SELECT r.id FROM runs r
WHERE r.status = 'queued' AND (r.expires_at IS NULL OR r.expires_at > ?)
  AND (r.lock_key IS NULL OR (
    NOT EXISTS (SELECT 1 FROM runs b WHERE b.lock_key = r.lock_key
                AND (b.status = 'running' OR b.cleaning = 1))
    AND NOT EXISTS (SELECT 1 FROM runs e WHERE e.lock_key = r.lock_key
                    AND e.status = 'queued' AND e.n < r.n)))
ORDER BY r.priority DESC, r.n ASC LIMIT 1
"""


def _run(row):
    if row is None:
        return None
    run = dict(zip([c.strip() for c in RUN_COLUMNS.split(",")], row))
    run["vars"] = json.loads(run["vars"])
    run["tags"] = json.loads(run["tags"]) if run["tags"] else None
    run["limit"] = run.pop("lim")
    run["result"] = json.loads(run["result"]) if run["result"] else {}
    run["cleaning"] = bool(run["cleaning"])
    return run


class SqlStore(Store):
    FOR_UPDATE = ""   # appended to the read of a run the transaction goes on to change
    CLAIM_LOCK = ""   # appended to the claim query
    RETRY_ON = ()     # errors after which a submission is simply tried again (PostgreSQL: a
                      # concurrent submission inserted the same Idempotency-Key first)

    def _tx(self):
        """A write transaction: ``with self._tx() as cur``."""
        raise NotImplementedError

    def _read(self, sql, args=()):
        raise NotImplementedError

    def _housekeeping(self, cur):
        """Called first in the reaper's, expiry's and retention's transactions."""

    @staticmethod
    def _events(cur, run_id, events):
        """Append [(type, data, ts)] with consecutive sequence numbers."""
        if not events:
            return None
        (last,) = cur.execute("UPDATE runs SET last_seq = last_seq + ? WHERE id = ? "
                              "RETURNING last_seq", (len(events), run_id)).fetchone()
        first = last - len(events) + 1
        cur.executemany(
            "INSERT INTO events (run_id, seq, type, ts, data) VALUES (?, ?, ?, ?, ?)",
            [(run_id, first + i, etype, ts if ts is not None else time.time(),
              json.dumps(data, separators=(",", ":"), default=str))
             for i, (etype, data, ts) in enumerate(events)])
        return last

    @staticmethod
    def _bump(cur, name, labels, value=1.0):
        cur.execute("INSERT INTO counters (name, labels, value) VALUES (?, ?, ?) "
                    "ON CONFLICT (name, labels) DO UPDATE SET value = counters.value + excluded.value",
                    (name, json.dumps(labels, sort_keys=True), value))

    def _observe(self, cur, name, labels, value):
        for le in BUCKETS[name]:
            if value <= le:
                self._bump(cur, name + "_bucket", dict(labels, le=str(float(le))))
        self._bump(cur, name + "_bucket", dict(labels, le="+Inf"))
        self._bump(cur, name + "_sum", labels, value)
        self._bump(cur, name + "_count", labels)

    def _get(self, cur, run_id, lock=False):
        return _run(cur.execute(f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?"
                                + (self.FOR_UPDATE if lock else ""), (run_id,)).fetchone())

    def _close_cleanup(self, cur, run, etype, payload, now, finished=None):
        """The end of a stop: what it did (``etype``: cancel.applied or run.interrupted),
        the lock held during the clean-up released, and run.finished closing the stream
        (by default with the run's result)."""
        if finished is None:
            finished = dict(run["result"], status=run["status"], rc=run["rc"])
        self._events(cur, run["id"], [(etype, payload, now)])
        cur.execute("UPDATE runs SET cleaning = 0 WHERE id = ?", (run["id"],))
        self._events(cur, run["id"], [("run.finished", finished, now)])

    def _finish(self, cur, run, status, rc, result, now, cleaning=False):
        merged = dict(run["result"], **(result or {}))
        cur.execute("UPDATE runs SET status = ?, rc = ?, result = ?, finished_at = ?, "
                    "cleaning = ? WHERE id = ?",
                    (status, rc, json.dumps(merged, default=str), now, int(cleaning), run["id"]))
        self._bump(cur, "runs_finished_total", {"status": status, "playbook": run["playbook"]})
        if run["started_at"]:
            self._observe(cur, "run_duration_seconds", {"playbook": run["playbook"]},
                          now - run["started_at"])
        if not cleaning:
            self._events(cur, run["id"], [("run.finished", dict(merged, status=status, rc=rc),
                                           now)])

    # -- submission -----------------------------------------------------------------
    def submit(self, run, idempotency_key, request_hash, max_depth, secrets=None):
        for attempt in range(3):
            try:
                result = self._submit(run, idempotency_key, request_hash, max_depth, secrets)
                break
            except self.RETRY_ON:
                if attempt == 2:
                    raise
        if isinstance(result, QueueFull):  # raised after the commit that counted it
            raise result
        return result

    def _submit(self, run, idempotency_key, request_hash, max_depth, secrets):
        with self._tx() as cur:
            if idempotency_key is not None:
                row = cur.execute("SELECT id, request_hash FROM runs WHERE idem_key = ?",
                                  (idempotency_key,)).fetchone()
                if row:
                    if row[1] != request_hash:
                        raise IdempotencyConflict(idempotency_key)
                    return self._get(cur, row[0]), False
            # one row kept by triggers on runs; locked until this commit, so concurrent
            # submissions queue one after another and never more than max_depth runs
            (depth,) = cur.execute("SELECT queued FROM queue_depth WHERE id = 1"
                                   + self.FOR_UPDATE).fetchone()
            if depth >= max_depth:
                self._bump(cur, "submissions_rejected_total", {"reason": "queue_full"})
                return QueueFull(depth)
            cur.execute(
                "INSERT INTO runs (id, playbook, vars, lim, tags, priority, lock_key, status, "
                "created_at, expires_at, timeout, idem_key, request_hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)",
                (run["id"], run["playbook"], json.dumps(run["vars"]), run.get("limit"),
                 json.dumps(run["tags"]) if run.get("tags") else None, run["priority"],
                 run.get("lock_key"), run["created_at"], run.get("expires_at"), run.get("timeout"),
                 idempotency_key, request_hash))
            if secrets:
                cur.execute("INSERT INTO run_secrets (run_id, data) VALUES (?, ?)",
                            (run["id"], json.dumps(secrets)))
            self._events(cur, run["id"], [("run.queued", {
                "playbook": run["playbook"], "priority": run["priority"],
                "lock_key": run.get("lock_key")}, run["created_at"])])
            return self._new_run(run), True

    def count_rejected(self, reason):
        with self._tx() as cur:
            self._bump(cur, "submissions_rejected_total", {"reason": reason})

    @staticmethod
    def _new_run(run):
        """The row just inserted, without reading it back."""
        out = {c.strip(): None for c in RUN_COLUMNS.split(",")}
        out.pop("lim")
        out.update({k: run.get(k) for k in ("id", "playbook", "vars", "limit", "tags", "priority",
                                            "lock_key", "created_at", "expires_at", "timeout")})
        out.update(status=QUEUED, cleaning=False, result={}, last_seq=1)
        out["tags"] = out["tags"] or None
        return out

    # -- reading ------------------------------------------------------------------------
    def get_run(self, run_id):
        rows = self._read(f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        return _run(rows[0]) if rows else None

    def list_runs(self, status=None, playbook=None, limit=50, offset=0):
        where, args = [], []
        if status:
            where.append("status = ?")
            args.append(status)
        if playbook:
            where.append("playbook = ?")
            args.append(playbook)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        rows = self._read(f"SELECT {RUN_COLUMNS} FROM runs {clause} ORDER BY n DESC "
                          "LIMIT ? OFFSET ?", args + [limit, offset])
        (total,) = self._read(f"SELECT count(*) FROM runs {clause}", args)[0]
        return [_run(r) for r in rows], total

    def queue_position(self, run_id):
        rows = self._read(
            "SELECT 1 + (SELECT count(*) FROM runs o WHERE o.status = 'queued' AND "
            "(o.priority > r.priority OR (o.priority = r.priority AND o.n < r.n))) "
            "FROM runs r WHERE r.id = ? AND r.status = 'queued'", (run_id,))
        return rows[0][0] if rows else None

    def event_counts(self, run_id):
        by_type = dict(self._read("SELECT type, count(*) FROM events WHERE run_id = ? "
                                  "GROUP BY type", (run_id,)))
        total = sum(by_type.values())
        lifecycle = sum(v for k, v in by_type.items() if "." in k)
        return {"total": total, "lifecycle": lifecycle, "runner": total - lifecycle,
                "by_type": by_type}

    def events_after(self, run_id, after, limit):
        rows = self._read("SELECT seq, type, ts, data FROM events WHERE run_id = ? AND seq > ? "
                          "ORDER BY seq LIMIT ?", (run_id, after, limit))
        return [{"seq": s, "type": t, "ts": ts, "data": json.loads(d)} for s, t, ts, d in rows]

    def run_marks(self, run_ids):
        marks = {}
        for i in range(0, len(run_ids), 500):
            chunk = run_ids[i:i + 500]
            rows = self._read("SELECT id, last_seq, status, cleaning FROM runs WHERE id IN "
                              f"({','.join('?' * len(chunk))})", chunk)
            marks.update((r[0], tuple(r[1:])) for r in rows)
        return marks

    def ping(self):
        return self._read("SELECT 1")[0][0] == 1

    # -- events -------------------------------------------------------------------------
    def append_events(self, run_id, events):
        with self._tx() as cur:
            return self._events(cur, run_id, events)

    # -- the worker side ------------------------------------------------------------------
    def claim(self, worker_id, now):
        with self._tx() as cur:
            row = cur.execute(CLAIM_SQL + self.CLAIM_LOCK, (now,)).fetchone()
            if row is None:
                return None
            cur.execute("UPDATE runs SET status = 'running', claimed_at = ?, worker_id = ? "
                        "WHERE id = ? AND status = 'queued'", (now, worker_id, row[0]))
            run = self._get(cur, row[0])
            self._observe(cur, "queue_latency_seconds", {"playbook": run["playbook"]},
                          now - run["created_at"])
            return run

    def mark_started(self, run_id, worker_id, data):
        now = time.time()
        with self._tx() as cur:
            cur.execute("UPDATE runs SET started_at = ? WHERE id = ? AND worker_id = ? "
                        "AND status = 'running'", (now, run_id, worker_id))
            if cur.rowcount:
                self._events(cur, run_id, [("run.started", dict(data, worker=worker_id), now)])
            return bool(cur.rowcount)

    def finish(self, run_id, status, rc, result, cleaning=False):
        now = time.time()
        with self._tx() as cur:
            run = self._get(cur, run_id, lock=True)
            if run is None or run["status"] != RUNNING:
                return False
            self._finish(cur, run, status, rc, result, now, cleaning=cleaning)
            if status == "canceled" and run["cancel_requested_at"]:
                self._observe(cur, "cancel_latency_seconds", {}, now - run["cancel_requested_at"])
            return True

    def end_cleanup(self, run_id, etype, payload):
        """Record what the stop did (cancel.applied), release the lock held during the
        on_cancel clean-up and close the stream with run.finished."""
        now = time.time()
        with self._tx() as cur:
            run = self._get(cur, run_id, lock=True)
            if run is None or not run["cleaning"]:
                return
            self._close_cleanup(cur, run, etype, payload, now)

    def request_cancel(self, run_id):
        now = time.time()
        with self._tx() as cur:
            run = self._get(cur, run_id, lock=True)
            if run is None:
                return None, None
            if run["cancel_requested_at"] is not None:
                return run, "repeated"
            if run["status"] in FINAL_STATES:
                return run, "finished"
            cur.execute("UPDATE runs SET cancel_requested_at = ? WHERE id = ?", (now, run_id))
            self._events(cur, run_id, [("cancel.requested", {"status": run["status"]}, now)])
            if run["status"] == QUEUED:
                run["cancel_requested_at"] = now
                self._finish(cur, run, "canceled", None, {"reason": "canceled while queued"}, now,
                             cleaning=True)
                self._close_cleanup(cur, self._get(cur, run_id), "cancel.applied", {
                    "action": "removed from queue", "signals": [], "on_cancel": None}, now)
                self._observe(cur, "cancel_latency_seconds", {}, 0.0)
                return self._get(cur, run_id), "canceled"
            return self._get(cur, run_id), "requested"

    def run_secrets(self, run_id):
        rows = self._read("SELECT data FROM run_secrets WHERE run_id = ?", (run_id,))
        return json.loads(rows[0][0]) if rows else {}

    def cancel_requested(self, run_id):
        rows = self._read("SELECT cancel_requested_at FROM runs WHERE id = ?", (run_id,))
        return bool(rows and rows[0][0] is not None)

    def run_control(self, run_id):
        rows = self._read("SELECT status, worker_id, cancel_requested_at FROM runs WHERE id = ?",
                          (run_id,))
        if not rows:
            return None, None, False
        status, worker_id, cancel = rows[0]
        return status, worker_id, cancel is not None

    # -- workers ------------------------------------------------------------------------------
    def heartbeat(self, worker):
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO workers (id, host, pid, started_at, heartbeat_at, slots, busy, runs, "
                "stopped_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL) ON CONFLICT (id) DO UPDATE SET host = excluded.host, "
                "pid = excluded.pid, started_at = excluded.started_at, "
                "heartbeat_at = excluded.heartbeat_at, slots = excluded.slots, "
                "busy = excluded.busy, runs = excluded.runs, stopped_at = NULL",
                [worker[k] for k in ("id", "host", "pid", "started_at", "heartbeat_at", "slots",
                                     "busy")] + [json.dumps(worker["runs"])])

    def worker_stopped(self, worker_id):
        with self._tx() as cur:
            cur.execute("UPDATE workers SET stopped_at = ?, busy = 0, runs = '[]' WHERE id = ?",
                        (time.time(), worker_id))

    def forget_workers(self, before):
        with self._tx() as cur:
            ids = [w for (w,) in cur.execute(
                "SELECT id FROM workers WHERE COALESCE(stopped_at, heartbeat_at) < ?", (before,))]
            cur.executemany("DELETE FROM workers WHERE id = ?", [(w,) for w in ids])
            return ids

    def workers(self):
        rows = self._read("SELECT id, host, pid, started_at, heartbeat_at, slots, busy, runs, "
                          "stopped_at FROM workers ORDER BY id")
        keys = ("id", "host", "pid", "started_at", "heartbeat_at", "slots", "busy", "runs",
                "stopped_at")
        out = []
        for row in rows:
            w = dict(zip(keys, row))
            w["runs"] = json.loads(w["runs"] or "[]")
            out.append(w)
        return out

    def reconcile(self, now, dead_after, dead_ids=()):
        actions = []
        with self._tx() as cur:
            self._housekeeping(cur)
            alive = {w["id"] for w in self.workers()
                     if worker_alive(w, now, dead_after)} - set(dead_ids)
            # workers known dead (their process is gone) are marked stopped for /status
            cur.executemany("UPDATE workers SET stopped_at = ?, busy = 0, runs = '[]' "
                            "WHERE id = ? AND stopped_at IS NULL",
                            [(now, wid) for wid in dead_ids])
            rows = cur.execute(f"SELECT {RUN_COLUMNS} FROM runs WHERE status = 'running' "
                               "OR cleaning = 1 ORDER BY n" + self.FOR_UPDATE).fetchall()
            for run in map(_run, rows):
                if run["worker_id"] in alive:
                    continue
                why = {"worker": run["worker_id"], "reason": "worker lost"}
                if run["status"] == RUNNING and run["started_at"] is None:
                    cur.execute("UPDATE runs SET status = 'queued', worker_id = NULL, "
                                "claimed_at = NULL WHERE id = ?", (run["id"],))
                    self._events(cur, run["id"], [("run.requeued", why, now)])
                    actions.append((run["id"], "requeued"))
                elif run["status"] == RUNNING:
                    self._events(cur, run["id"], [("run.reaped", why, now)])
                    self._finish(cur, run, "error", None, {"reason": "worker lost"}, now)
                    actions.append((run["id"], "reaped"))
                else:
                    self._events(cur, run["id"], [("run.reaped", dict(why, phase="on_cancel"),
                                                   now)])
                    self._close_cleanup(cur, run, "cancel.applied", {
                        "on_cancel": {"status": "interrupted", "reason": "worker lost"}}, now,
                        finished={"status": run["status"], "rc": run["rc"],
                                  "reason": "worker lost"})
                    actions.append((run["id"], "cleanup-reaped"))
        return actions

    def expire_queued(self, now):
        with self._tx() as cur:
            self._housekeeping(cur)
            rows = cur.execute(f"SELECT {RUN_COLUMNS} FROM runs WHERE status = 'queued' "
                               "AND expires_at IS NOT NULL AND expires_at <= ? ORDER BY n"
                               + self.FOR_UPDATE, (now,)).fetchall()
            for run in map(_run, rows):
                self._events(cur, run["id"], [("run.expired", {
                    "queued_for": now - run["created_at"]}, now)])
                self._finish(cur, run, "canceled", None, {"reason": "expired"}, now)
            return [r[0] for r in rows]

    def prune(self, before):
        with self._tx() as cur:
            self._housekeeping(cur)
            ids = [r for (r,) in cur.execute(
                "SELECT id FROM runs WHERE status IN ('successful', 'failed', 'canceled', "
                "'error') AND cleaning = 0 AND finished_at < ?", (before,))]
            for run_id in ids:
                cur.execute("DELETE FROM events WHERE run_id = ?", (run_id,))
                cur.execute("DELETE FROM runs WHERE id = ?", (run_id,))
            now = time.time()
            cur.execute("DELETE FROM hook_seen WHERE expires_at < ?", (now,))
            cur.execute("DELETE FROM hook_aliases WHERE expires_at < ?", (now,))
            return ids

    # -- what the hooks remember ----------------------------------------------------------
    def first_use(self, key, window, now=None):
        now = time.time() if now is None else now
        with self._tx() as cur:
            # an expired entry counts as absent (retention deletes it later)
            return cur.execute(
                "INSERT INTO hook_seen (key, expires_at) VALUES (?, ?) ON CONFLICT (key) "
                "DO UPDATE SET expires_at = excluded.expires_at WHERE hook_seen.expires_at < ? "
                "RETURNING 1", (key, now + 2 * window, now)).fetchone() is not None

    def alias(self, alias, key, window, now=None):
        now = time.time() if now is None else now
        with self._tx() as cur:
            (first,) = cur.execute(
                "INSERT INTO hook_aliases (alias, run_key, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (alias) DO UPDATE SET "
                "run_key = CASE WHEN hook_aliases.expires_at < ? THEN excluded.run_key "
                "ELSE hook_aliases.run_key END, "
                "expires_at = CASE WHEN hook_aliases.expires_at < ? THEN excluded.expires_at "
                "ELSE hook_aliases.expires_at END RETURNING run_key",
                (alias, key, now + window, now, now)).fetchone()
            return first

    def queue_stats(self, now):
        by = {}
        for status, playbook, count, oldest in self._read(
                "SELECT status, playbook, count(*), min(created_at) FROM runs "
                "WHERE status IN ('queued', 'running') GROUP BY status, playbook"):
            by.setdefault(status, {})[playbook] = (count, oldest)
        queued = by.get(QUEUED, {})
        oldest = min((o for _, o in queued.values()), default=None)
        return {
            "queued": {p: c for p, (c, _) in queued.items()},
            "running": {p: c for p, (c, _) in by.get(RUNNING, {}).items()},
            "depth": sum(c for c, _ in queued.values()),
            "oldest_queued_age": (now - oldest) if oldest else 0.0,
        }

    def counters(self):
        return [(name, json.loads(labels), value)
                for name, labels, value in self._read("SELECT name, labels, value FROM counters")]
