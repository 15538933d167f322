"""SQLite store (WAL), safe for several gunicorn workers and worker processes.

Every state change is one ``BEGIN IMMEDIATE`` transaction, so the claim of a run, the
check of its lock key and the status update happen atomically across processes.
The queries and state changes themselves are shared with PostgreSQL (``.sql``).
"""

import fcntl
import os
import sqlite3

from . import SchemaError, schema, sqlite_db
from .sql import SqlStore

# PRAGMA user_version of a store this code made (0: made before it was numbered, as 1);
# a store is brought up to it, one numbered step after another, whenever it is opened
SCHEMA_VERSION = 2

MIGRATIONS = {
    # secure_delete (see _conn) zeroes the bytes the triggers free
    1: schema.step(1, "sqlite") + """
CREATE TRIGGER IF NOT EXISTS run_secrets_end AFTER UPDATE OF status, cleaning ON runs
  WHEN NEW.status IN ('successful', 'failed', 'canceled', 'error') AND NEW.cleaning = 0
  BEGIN DELETE FROM run_secrets WHERE run_id = NEW.id; END;
CREATE TRIGGER IF NOT EXISTS run_secrets_gone AFTER DELETE ON runs
  BEGIN DELETE FROM run_secrets WHERE run_id = OLD.id; END;
""",
    2: schema.step(2, "sqlite") + """
CREATE TRIGGER IF NOT EXISTS runs_queued AFTER INSERT ON runs WHEN NEW.status = 'queued'
  BEGIN UPDATE queue_depth SET queued = queued + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS runs_queue_moved AFTER UPDATE OF status ON runs
  WHEN (OLD.status = 'queued') <> (NEW.status = 'queued')
  BEGIN UPDATE queue_depth SET queued = queued + (CASE WHEN NEW.status = 'queued' THEN 1
                                                  ELSE -1 END) WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS runs_unqueued AFTER DELETE ON runs WHEN OLD.status = 'queued'
  BEGIN UPDATE queue_depth SET queued = queued - 1 WHERE id = 1; END;
""",
}

AUTOCHECKPOINT_PAGES = 20000
CHECKPOINT_INTERVAL = 0.2
# WAL frames past which the checkpointer makes the WAL start over (_restart_wal)
RESTART_FRAMES = 2000
RESTART_READERS_WAIT_MS = 50


class SqliteStore(SqlStore):
    def __init__(self, path):
        self.path = path
        self._local = sqlite_db.os_thread_local()
        self._thread_lock = sqlite_db.writers_lock()
        self._lock_pid = None
        self._checkpointer_pid = None
        self._check_version()
        # the set-up takes the writers' flock, so it also waits for a writer of a live store
        sqlite_db.create(path, MIGRATIONS, path + ".writelock")
        self._lock_fd()  # open the flock file now, before any thread can race to open it

    def _check_version(self):
        if not os.path.exists(self.path):
            return
        conn = sqlite_db.connect(self.path)
        try:
            (version,) = conn.execute("PRAGMA user_version").fetchone()
        finally:
            conn.close()
        if version > SCHEMA_VERSION:
            raise SchemaError(f"the run store {self.path} has schema version {version}, newer "
                              f"than this service knows ({SCHEMA_VERSION}): it was written by "
                              "a newer skyforge webhook; run that version (or restore a backup)")

    # -- plumbing -----------------------------------------------------------------
    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = sqlite_db.connect(self.path)
            conn.execute("PRAGMA synchronous=NORMAL")
            # deleted rows (a run's secrets) are overwritten, not left in free pages, and the
            # WAL is cut back to nothing when it restarts, so old frames do not linger
            conn.execute("PRAGMA secure_delete=ON")
            conn.execute("PRAGMA journal_size_limit=0")
            # checkpoints (and their fsync) run in a background thread, not in the commit of
            # whichever request crossed the threshold; this is only the safety net
            conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
            self._local.conn, self._local.pid = conn, os.getpid()
            self._start_checkpointer()
        return conn

    def _start_checkpointer(self):
        if self._checkpointer_pid == os.getpid():
            return
        self._checkpointer_pid = os.getpid()
        sqlite_db.start_os_thread(self._checkpoint_loop)

    def _checkpoint_loop(self, sleep):
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=0)
        conn.execute("PRAGMA journal_size_limit=0")
        conn.execute("PRAGMA busy_timeout=%d" % RESTART_READERS_WAIT_MS)
        lock = open(self.path + ".writelock", "a+b")
        while True:
            sleep(CHECKPOINT_INTERVAL)
            try:
                _busy, frames, _done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if frames >= RESTART_FRAMES:
                    self._restart_wal(conn, lock)
            except sqlite3.OperationalError:
                pass  # another process is checkpointing

    @staticmethod
    def _restart_wal(conn, lock):
        """Under steady writes a PASSIVE checkpoint never catches up with the last commit,
        so the WAL never starts over: it grew to AUTOCHECKPOINT_PAGES, and the commit that
        crossed it checkpointed 80 MB inline, stalling every writer of every process for
        100-150 ms every few seconds. Here, right after a PASSIVE pass has copied the bulk,
        the writers' flock is taken (this is a real OS thread: blocking is fine) and a
        RESTART checkpoint copies the few frames left, so the next writer starts the WAL
        over; writers wait a few milliseconds, now and then."""
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    class _Tx:
        """A write transaction.  Writers first queue on the process's writers lock
        (sqlite_db.writers_lock) and an flock() of a side file: both wake the next writer
        the moment the lock is released, whereas
        SQLite's own busy handler sleeps in growing steps (up to 100 ms) and makes the tail
        latency of concurrent submissions from several gunicorn processes jump."""

        def __init__(self, store):
            self.store = store
            self.conn = store._conn()

        def __enter__(self):
            # _lock_fd() first: after a fork it replaces the file and the writers lock, and
            # the lock released at the end must be the one taken here
            self.fd = self.store._lock_fd()
            self.lock = self.store._thread_lock
            self.lock.acquire()
            try:
                sqlite_db.lock_exclusive(self.fd)
                self.conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                self._release()
                raise
            return self.conn.cursor()

        def __exit__(self, exc_type, exc, tb):
            try:
                self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
            finally:
                self._release()
            return False

        def _release(self):
            try:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            finally:
                self.lock.release()

    def _lock_fd(self):
        if self._lock_pid != os.getpid():
            self._lock_file = open(self.path + ".writelock", "a+b")
            self._lock_pid = os.getpid()
            self._thread_lock = sqlite_db.writers_lock()
        return self._lock_file.fileno()

    def _tx(self):
        return self._Tx(self)

    def _read(self, sql, args=()):
        return self._conn().execute(sql, args).fetchall()

    def change_token(self):
        # a connection of its own: data_version ignores commits of the connection that
        # asks, and the others are shared with this process's writers
        local = self._local
        conn = getattr(local, "token_conn", None)
        if conn is None or local.token_pid != os.getpid():
            conn = sqlite_db.connect(self.path)
            local.token_conn, local.token_pid = conn, os.getpid()
        return conn.execute("PRAGMA data_version").fetchone()[0]

