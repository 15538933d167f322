"""PostgreSQL store (psycopg 3 and its pool), for API replicas and workers on many hosts.

The queries are SQLite's (``.sql``); what differs is how they are kept atomic without one
exclusive writer: a transaction locks the run rows it changes (``FOR UPDATE``), a claim
skips rows other claims hold (``FOR UPDATE SKIP LOCKED``: claimers never wait on each
other; the lock-key and FIFO checks in the claim query see a run another claim just took
as still queued, so its lock key stays blocked), and the reaper, TTL expiry and retention
take one advisory lock, so one process at a time does them across all hosts.

The schema is versioned (``postgres_schema``): the store refuses to open on any other
version than the one this code knows, naming the command that fixes it.
"""

import contextlib
import functools
import os
import threading

import psycopg
import psycopg_pool

from . import SchemaError, StoreUnavailable
from . import postgres_schema
from .sql import SqlStore

HOUSEKEEPING_LOCK = 0x736b7966_686f7573   # pg_advisory_xact_lock key: "skyfhous"
CONNECT_TIMEOUT = 5


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
                    self._pool = psycopg_pool.ConnectionPool(
                        kwargs=kwargs, min_size=1, max_size=self.pool_size, open=True,
                        name=f"skyforge-store-{os.getpid()}")
                    self._pool_pid = os.getpid()
        return self._pool

    @contextlib.contextmanager
    def _tx(self):
        with self._connections().connection() as conn:
            with conn.transaction():
                yield _Cursor(conn.cursor())

    def _read(self, sql, args=()):
        with self._connections().connection() as conn:
            return conn.execute(_pg(sql), args).fetchall()

    def _housekeeping(self, cur):
        cur.execute("SELECT pg_advisory_xact_lock(?)", (HOUSEKEEPING_LOCK,))

    def change_token(self):
        # the snapshot changes whenever a transaction that wrote anything starts or ends
        return self._read("SELECT pg_current_snapshot()::text")[0][0]

    def close(self):
        if self._pool is not None and self._pool_pid == os.getpid():
            self._pool.close()
            self._pool = None
