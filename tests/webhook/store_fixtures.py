"""The run store under test, for each backend: SQLite in a temporary file, PostgreSQL as a
fresh database (schema migrated) on one real server started once per test run.

``store_url`` is parametrised over both backends. The services of ``make_service`` (and a
module's shared services) use ``store_backend``: "sqlite" unless the module sets
``pytestmark = BOTH_BACKENDS``, which runs its service tests against both.
"""

import contextlib
import tempfile
import uuid

import pytest

from tests.ci import unavailable
from tests.servers.postgres import PostgresServer, bin_dir

BACKENDS = ["sqlite", "postgresql"]
BOTH_BACKENDS = pytest.mark.parametrize("store_backend", BACKENDS, indirect=True, scope="module")


@contextlib.contextmanager
def started_postgres(prefix="skyforge-pg-"):
    """A PostgreSQL server of its own for the block, destroyed after it."""
    if bin_dir() is None:
        unavailable("PostgreSQL is not installed (make system-deps installs the Debian package)")
    # under /tmp, not pytest's tmp_path: the unprivileged postgres user must reach it
    server = PostgresServer(tempfile.mkdtemp(prefix=prefix))
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def postgres_server():
    with started_postgres() as server:
        yield server


class Databases:
    """Fresh stores for one backend: ``new()`` gives a store URL (None for SQLite: the
    service's default file in its own data_dir), ``drop()`` deletes what was made."""

    def __init__(self, request, backend):
        self.request, self.backend, self.names = request, backend, []

    def new(self):
        if self.backend == "sqlite":
            return None
        from webhook.store import url as store_url
        from webhook.store.backends import migrate
        server = self.request.getfixturevalue("postgres_server")
        name = "t_" + uuid.uuid4().hex[:16]
        self.names.append(name)
        url = server.create_database(name)
        migrate(store_url.parse(url, "/"))
        return url

    def drop(self):
        if self.names:
            server = self.request.getfixturevalue("postgres_server")
            for name in self.names:
                server.drop_database(name)


@pytest.fixture(scope="module")
def store_backend(request):
    return getattr(request, "param", "sqlite")


@pytest.fixture
def store_databases(request, store_backend):
    dbs = Databases(request, store_backend)
    yield dbs
    dbs.drop()


@pytest.fixture(scope="module")
def module_store_databases(request, store_backend):
    dbs = Databases(request, store_backend)
    yield dbs
    dbs.drop()


@pytest.fixture
def postgres_url(request):
    """A fresh, migrated database on the shared server."""
    dbs = Databases(request, "postgresql")
    yield dbs.new()
    dbs.drop()


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path):
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return "sqlite:///" + str(tmp_path / "db.sqlite3")


def open_url(url):
    from webhook.store import url as store_url
    from webhook.store.backends import open_url as open_store_url
    return open_store_url(store_url.parse(url, "/"))
