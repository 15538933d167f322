"""The store a config asks for (``store.url``): SQLite or PostgreSQL, and its schema."""

from .sqlite import SCHEMA_VERSION, SqliteStore


def open_url(url, check_schema=True, pool_size=10):
    """The store a parsed :class:`webhook.store.url.StoreUrl` names. A PostgreSQL store is
    reached and its schema version checked at once (``check_schema``)."""
    if url.kind == "sqlite":
        return SqliteStore(url.path)
    from .postgres import PostgresStore   # psycopg is needed only by who uses PostgreSQL
    return PostgresStore(url, check_schema=check_schema, pool_size=pool_size)


def migrate(url):
    """Create or upgrade the store's schema; return a line saying what was done."""
    if url.kind == "sqlite":
        SqliteStore(url.path)   # a SQLite store is brought up to date whenever it is opened
        return f"{url.display()}: schema version {SCHEMA_VERSION}"
    from .postgres import migrate as pg_migrate
    before, after = pg_migrate(url)
    if before == after:
        return f"{url.display()}: schema version {after}, nothing to do"
    return f"{url.display()}: schema version {before} -> {after}"


def open_store(config, check_schema=True):
    return open_url(config.store_url, check_schema=check_schema,
                    pool_size=config.store["pool_size"])
