"""The run store under test, for each backend: SQLite in a temporary file, PostgreSQL as a
fresh database (schema migrated) on one real server started once per test run.

``store_url`` is parametrised over both backends; ``store_backend`` is "sqlite" unless a
module parametrises it indirectly (``pytest.mark.parametrize("store_backend", BACKENDS,
indirect=True)``), which runs its service tests against both.
"""

import tempfile
import uuid

import pytest

from tests.ci import unavailable
from tests.servers.postgres import PostgresServer, bin_dir

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_server():
    if bin_dir() is None:
        unavailable("PostgreSQL is not installed (make system-deps installs the Debian package)")
    # under /tmp, not pytest's tmp_path: the unprivileged postgres user must reach it
    server = PostgresServer(tempfile.mkdtemp(prefix="skyforge-pg-"))
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, migrated database on the shared server."""
    from webhook.store import migrate, url as store_url
    name = "t_" + uuid.uuid4().hex[:16]
    url = postgres_server.create_database(name)
    migrate(store_url.parse(url, "/"))
    yield url
    postgres_server.drop_database(name)


@pytest.fixture
def store_backend(request):
    return getattr(request, "param", "sqlite")


def url_for(request, backend, tmp_path):
    if backend == "postgresql":
        return request.getfixturevalue("postgres_url")
    return "sqlite:///" + str(tmp_path / "db.sqlite3")


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path):
    return url_for(request, request.param, tmp_path)


def open_url(url):
    from webhook.store import open_url as open_store_url, url as store_url
    return open_store_url(store_url.parse(url, "/"))
