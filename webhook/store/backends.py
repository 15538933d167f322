"""The store a config asks for (SQLite today; a PostgreSQL store would be chosen here)."""

from .sqlite import SqliteStore


def open_store(config):
    return SqliteStore(config.db_path)
