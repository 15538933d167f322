"""PostgreSQL store (psycopg 3 and its pool), for API replicas and workers on many hosts.

The queries are SQLite's (``.sql``); what differs is how they are kept atomic without one
exclusive writer: a transaction locks the run rows it changes (``FOR UPDATE``), a claim
skips rows other claims hold (``FOR UPDATE SKIP LOCKED``: claimers never wait on each
other; the lock-key and FIFO checks in the claim query see a run another claim just took
as still queued, so its lock key stays blocked), and the reaper, TTL expiry and retention
take one advisory lock, so one process at a time does them across all hosts.

Live delivery across hosts: triggers NOTIFY every change of a run in the transaction that
makes it (``postgres_schema``), and one connection per process LISTENs
(``_follow_changes``); it reconnects when its connection drops, and announces "anything
may have changed" once listening again, so the streams catch up on what was committed
meanwhile.

The schema is versioned (``postgres_schema``): the store refuses to open on any other
version than the one this code knows, naming the command that fixes it.
"""

import contextlib
import functools
import logging
import os
import threading
import time

import psycopg
import psycopg_pool

from . import SchemaError, StoreUnavailable
from . import postgres_schema
from .sql import SqlStore

HOUSEKEEPING_LOCK = 0x736b7966_686f7573   # pg_advisory_xact_lock key: "skyfhous"
CONNECT_TIMEOUT = 5
POOL_WAIT = 5.0               # seconds a caller waits for a connection before StoreUnavailable
RECONNECT_GIVE_UP = 10 ** 9   # the pool keeps trying to reconnect, whatever the outage
LISTEN_PING = 5.0          # seconds without a notification before the listener checks its link
RECONNECT_FIRST, RECONNECT_MAX = 0.1, 2.0
LISTENER_NAME = "skyforge-listener"   # application_name of the listening connections

log = logging.getLogger("webhook.store")


@functools.lru_cache(maxsize=None)
def _pg(sql):
    """The shared SQL's ``?`` placeholders in psycopg's style."""
    return sql.replace("%", "%%").replace("?", "%s")


class _Cursor:
    """A psycopg cursor that takes the shared SQL."""

    def __init__(self, cur):
        self._cur = cur

    def execute(self, sql, args=()):
        return self._cur.execute(_pg(sql), args)

    def executemany(self, sql, args_seq):
        self._cur.executemany(_pg(sql), args_seq)
        return self._cur

    @property
    def rowcount(self):
        return self._cur.rowcount


def _connect(url, **extra):
    """One connection, or StoreUnavailable naming the server (never the password)."""
    try:
        kwargs = url.connect_kwargs()
    except ValueError as exc:
        raise StoreUnavailable(str(exc)) from None
    kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT)
    try:
        return psycopg.connect(autocommit=True, **kwargs, **extra)
    except psycopg.OperationalError as exc:
        reason = " ".join(line.strip() for line in str(exc).splitlines()) or type(exc).__name__
        raise StoreUnavailable(
            f"cannot reach the PostgreSQL run store at {url.host}:{url.port} (database "
            f"'{url.dbname}'): {reason}") from None


def schema_version(conn):
    """The schema version recorded in the database (0: none yet)."""
    exists = conn.execute("SELECT to_regclass('skyforge_schema') IS NOT NULL").fetchone()[0]
    if not exists:
        return 0
    row = conn.execute("SELECT max(version) FROM skyforge_schema").fetchone()
    return row[0] or 0


def migrate(url):
    """Bring the database to ``postgres_schema.LATEST``; return (from, to) versions."""
    with contextlib.closing(_connect(url)) as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (postgres_schema.MIGRATE_LOCK,))
            current = schema_version(conn)
            if current > postgres_schema.LATEST:
                raise _newer(url, current)
            conn.execute("CREATE TABLE IF NOT EXISTS skyforge_schema (version INTEGER NOT NULL)")
            for version in range(current + 1, postgres_schema.LATEST + 1):
                conn.execute(postgres_schema.MIGRATIONS[version])
            conn.execute("DELETE FROM skyforge_schema")
            conn.execute("INSERT INTO skyforge_schema (version) VALUES (%s)",
                         (postgres_schema.LATEST,))
    return current, postgres_schema.LATEST


def _newer(url, version):
    return SchemaError(f"the run store {url.display()} has schema version {version}, newer than "
                       f"this service knows ({postgres_schema.LATEST}): it was migrated by a "
                       "newer skyforge webhook; run that version")


class PostgresStore(SqlStore):
    FOR_UPDATE = " FOR UPDATE"
    CLAIM_LOCK = " FOR UPDATE OF r SKIP LOCKED"
    RETRY_ON = (psycopg.errors.UniqueViolation, psycopg.errors.DeadlockDetected)

    def __init__(self, url, check_schema=True, pool_size=10):
        self.url = url
        self.pool_size = pool_size
        self._pool = None
        self._pool_pid = None
        self._pool_lock = threading.Lock()
        if check_schema:
            self.check_schema()

    def check_schema(self):
        """Reach the server and refuse any schema version but ``LATEST``."""
        with contextlib.closing(_connect(self.url)) as conn:
            version = schema_version(conn)
        if version > postgres_schema.LATEST:
            raise _newer(self.url, version)
        if version < postgres_schema.LATEST:
            what = "has no skyforge schema yet" if version == 0 else \
                f"has schema version {version}"
            raise SchemaError(f"the run store {self.url.display()} {what}; this service needs "
                              f"version {postgres_schema.LATEST}: run `python -m webhook migrate` "
                              "(with the same config) once, then start the service")

    # -- plumbing -----------------------------------------------------------------------
    def _connections(self):
        """This process's pool (a forked child makes its own)."""
        if self._pool_pid != os.getpid():
            with self._pool_lock:
                if self._pool_pid != os.getpid():
                    kwargs = dict(self.url.connect_kwargs(), autocommit=True)
                    kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT)
                    # a connection the server dropped (a restart) is found out when taken,
                    # not by the query it was taken for; a caller waits POOL_WAIT at most
                    self._pool = psycopg_pool.ConnectionPool(
                        kwargs=kwargs, min_size=1, max_size=self.pool_size, open=True,
                        check=psycopg_pool.ConnectionPool.check_connection, timeout=POOL_WAIT,
                        reconnect_timeout=RECONNECT_GIVE_UP,
                        name=f"skyforge-store-{os.getpid()}")
                    self._pool_pid = os.getpid()
        return self._pool

    @contextlib.contextmanager
    def _tx(self):
        with self._unavailable_as_error():
            with self._connections().connection() as conn:
                with conn.transaction():
                    yield _Cursor(conn.cursor())

    def _read(self, sql, args=()):
        with self._unavailable_as_error():
            with self._connections().connection() as conn:
                return conn.execute(_pg(sql), args).fetchall()

    @contextlib.contextmanager
    def _unavailable_as_error(self):
        """The server gone (stopped, restarting, unreachable, the connection cut) is
        StoreUnavailable, which the API answers with 503 and workers wait out; a conflict
        between transactions (a deadlock, a serialization failure) stays what it is."""
        try:
            yield
        except psycopg.errors.TransactionRollback:
            raise
        except psycopg.OperationalError as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise StoreUnavailable(f"the PostgreSQL run store at {self.url.host}:{self.url.port} "
                                   f"cannot be used now: {reason}") from None

    def _housekeeping(self, cur):
        cur.execute("SELECT pg_advisory_xact_lock(?)", (HOUSEKEEPING_LOCK,))

    def _follow_changes(self, interval, emit):
        wait = RECONNECT_FIRST
        while True:
            try:
                conn = _connect(self.url, application_name=LISTENER_NAME)
            except StoreUnavailable as exc:
                log.warning("change listener: %s; retrying in %.1fs", exc, wait)
                time.sleep(wait)
                wait = min(wait * 2, RECONNECT_MAX)
                continue
            try:
                conn.execute(f"LISTEN {postgres_schema.CHANNEL}")
                wait = RECONNECT_FIRST
                emit(None)   # catch up on what was committed while nobody listened
                while True:
                    for note in conn.notifies(timeout=LISTEN_PING):
                        kind, run_id = note.payload[:1], note.payload[1:]
                        emit({run_id} if run_id else set(), kind == "q")
                    conn.execute("SELECT 1")   # a link that died silently shows here
            except psycopg.Error as exc:
                log.warning("change listener lost its connection (%s); reconnecting",
                            " ".join(str(exc).split()) or type(exc).__name__)
            finally:
                conn.close()

    def change_token(self):
        # the snapshot changes whenever a transaction that wrote anything starts or ends
        return self._read("SELECT pg_current_snapshot()::text")[0][0]

    def close(self):
        if self._pool is not None and self._pool_pid == os.getpid():
            self._pool.close()
            self._pool = None
