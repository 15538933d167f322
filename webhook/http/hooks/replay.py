"""Which signed requests were already seen, shared by every process of the service.

A small SQLite file beside the run store (``<data_dir>/hooks.sqlite3``); the primary key
makes "first to insert wins" atomic across gunicorn workers.  ``seen`` holds signed Slack
requests (entries older than the acceptance window are dropped: a request that old is
refused as stale anyway); ``aliases`` maps the digest of a signed GitHub body to the
delivery that first carried it, for as long as runs are kept.
"""

import os
import time

from ...store import sqlite_db

SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, ts REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS aliases (alias TEXT PRIMARY KEY, key TEXT NOT NULL, ts REAL NOT NULL)
  WITHOUT ROWID;
"""


class ReplayGuard:
    def __init__(self, path):
        self.path = path
        self._local = sqlite_db.os_thread_local()
        sqlite_db.create(path, SCHEMA, path + ".setuplock")

    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = sqlite_db.connect(self.path)
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _write(self, func):
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = func(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return result

    def first_use(self, key: str, window: float, now: float = None) -> bool:
        """Record ``key``; True if no process saw it within ``window`` seconds."""
        now = time.time() if now is None else now

        def record(conn):
            conn.execute("DELETE FROM seen WHERE ts < ?", (now - 2 * window,))
            return conn.execute("INSERT OR IGNORE INTO seen (key, ts) VALUES (?, ?)",
                                (key, now)).rowcount == 1
        return self._write(record)

    def alias(self, alias: str, key: str, window: float, now: float = None) -> str:
        """Map ``alias`` to ``key`` unless a process mapped it within ``window`` seconds;
        return the key ``alias`` maps to (the first one wins)."""
        now = time.time() if now is None else now

        def record(conn):
            conn.execute("DELETE FROM aliases WHERE ts < ?", (now - window,))
            conn.execute("INSERT OR IGNORE INTO aliases (alias, key, ts) VALUES (?, ?, ?)",
                         (alias, key, now))
            return conn.execute("SELECT key FROM aliases WHERE alias = ?", (alias,)).fetchone()[0]
        return self._write(record)
