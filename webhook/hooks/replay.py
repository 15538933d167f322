"""Which signed requests were already seen, shared by every process of the service.

A small SQLite file beside the run store (``<data_dir>/hooks.sqlite3``); the primary key
makes "first to insert wins" atomic across gunicorn workers.  Entries older than the
acceptance window are dropped: a request that old is refused as stale anyway.
"""

import os
import threading
import time

from .. import sqlite_db


class ReplayGuard:
    def __init__(self, path):
        self.path = path
        self._local = threading.local()
        sqlite_db.create(path, "CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, "
                         "ts REAL NOT NULL) WITHOUT ROWID;", path + ".setuplock")

    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = sqlite_db.connect(self.path)
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def first_use(self, key: str, window: float, now: float = None) -> bool:
        """Record ``key``; True if no process saw it within ``window`` seconds."""
        now = time.time() if now is None else now
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM seen WHERE ts < ?", (now - 2 * window,))
            cur = conn.execute("INSERT OR IGNORE INTO seen (key, ts) VALUES (?, ?)", (key, now))
            first = cur.rowcount == 1
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return first
