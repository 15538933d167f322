"""Opening the service's SQLite files (the run store, the replay guard) from many processes.

gunicorn boots its workers together, so several processes may create the same new file at
once. Switching a file to WAL needs an exclusive lock that SQLite refuses at once
("database is locked") rather than waiting for, whatever the busy timeout: the set-up is
therefore serialised on an flock() of a side file.
"""

import fcntl
import os
import sqlite3

BUSY_TIMEOUT_MS = 30000


def connect(path):
    """An autocommit connection that waits up to 30 s for other writers; usable from the
    thread that asks for it (check_same_thread is off for the checkpointer's sake)."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000.0,
                           check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=%d" % BUSY_TIMEOUT_MS)
    return conn


def create(path, schema, lock_path):
    """Make `path` a WAL database holding `schema` (idempotent DDL), one process at a time."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(lock_path, "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        conn = connect(path)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(schema)
        finally:
            conn.close()
