"""store.url: which store a service opens, the schema check at start, `python -m webhook
migrate`, and what an operator sees when the store cannot be used (exit 2, a message that
says where and what to do)."""

import subprocess
import sys
import uuid

import psycopg
import pytest

from tests.servers.common import free_port
from tests.webhook.conftest import ROOT
from webhook import config
from webhook.store import QueueFull, SchemaError, url as store_url
from webhook.store.backends import migrate, open_url
from webhook.store.postgres import PostgresStore
from webhook.store import postgres_schema
from webhook.store.sqlite import MIGRATIONS, SCHEMA_VERSION, SqliteStore


def load(tmp_path, text):
    path = tmp_path / "config.yml"
    path.write_text("data_dir: data\n" + text)
    return config.load(str(path))


def webhook(tmp_path, command, url, env=None):
    """Run `python -m webhook COMMAND` with store.url = url; return (rc, stdout + stderr)."""
    path = tmp_path / "cli.yml"
    path.write_text(f"data_dir: data\nstore: {{url: '{url}'}}\n")
    proc = subprocess.run([sys.executable, "-m", "webhook", "-c", str(path)] + command,
                          cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, timeout=60, check=False)
    return proc.returncode, proc.stdout.decode()


def test_default_is_sqlite_in_data_dir_and_env_overrides(tmp_path, monkeypatch):
    monkeypatch.delenv("SKYFORGE_STORE_URL", raising=False)
    cfg = load(tmp_path, "")
    assert cfg.store_url.kind == "sqlite" and cfg.store_url.path == cfg.db_path
    cfg = load(tmp_path, "store: {url: 'sqlite:///state/runs.db'}\n")
    assert cfg.store_url.path == str(tmp_path / "state" / "runs.db")
    monkeypatch.setenv("SKYFORGE_STORE_URL", "postgresql://app:env:PW@db.example:6543/runs")
    url = cfg.store_url
    assert (url.kind, url.host, url.port, url.dbname, url.user) == (
        "postgresql", "db.example", 6543, "runs", "app")
    assert url.display() == "postgresql://app@db.example:6543/runs"   # no password shown
    monkeypatch.setenv("PW", "s3cret")
    assert url.connect_kwargs()["password"] == "s3cret"
    monkeypatch.delenv("PW")
    with pytest.raises(ValueError, match="environment variable PW is not set"):
        url.connect_kwargs()


@pytest.mark.parametrize("value, needle", [
    ("mysql://h/db", "unsupported store URL 'mysql://h/db'"),
    ("postgresql://u:hunter2@h:nope/db", "the port is not a number"),
    ("postgresql://h", "needs a host and a database name"),
    ("sqlite:///", "names no database file"),
])
def test_bad_store_urls_are_config_errors(tmp_path, value, needle):
    with pytest.raises(config.ConfigError, match=needle) as err:
        load(tmp_path, f"store: {{url: '{value}'}}\n")
    assert "store.url" in str(err.value) and "hunter2" not in str(err.value)


def test_an_unreachable_store_stops_the_service_with_host_and_port(tmp_path):
    port = free_port()   # nothing listens there
    url = f"postgresql://app:pw@127.0.0.1:{port}/runs"
    for command in (["worker"], ["serve"], ["migrate"]):
        rc, out = webhook(tmp_path, command, url)
        assert rc == 2, (command, out)
        assert f"cannot reach the PostgreSQL run store at 127.0.0.1:{port}" in out, out
        assert "pw@" not in out


def test_an_api_started_alone_on_an_unreachable_store_exits_2(tmp_path):
    port = free_port()
    path = tmp_path / "api.yml"
    path.write_text(f"data_dir: data\nstore: {{url: 'postgresql://app:pw@127.0.0.1:{port}/runs'}}\n")
    env = {"PATH": "/usr/bin:/bin", "SKYFORGE_CONFIG": str(path),
           "SKYFORGE_BIND": f"127.0.0.1:{free_port()}"}
    proc = subprocess.run([sys.executable, "-m", "gunicorn", "-c", "webhook/gunicorn.conf.py",
                           "webhook:create_app()"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=60,
                          check=False)
    out = proc.stdout.decode()
    assert proc.returncode == 2, out
    assert f"cannot reach the PostgreSQL run store at 127.0.0.1:{port}" in out and "pw@" not in out


def test_schema_is_checked_at_start_and_made_by_migrate(tmp_path, postgres_server):
    name = "t_" + uuid.uuid4().hex[:16]
    raw = postgres_server.create_database(name)
    password = raw.split(":")[2].split("@")[0]
    # the password from the environment, not the config file
    url = raw.replace(f":{password}@", ":env:SKYFORGE_TEST_PGPW@")
    env = {"PATH": "/usr/bin:/bin", "SKYFORGE_TEST_PGPW": password}
    try:
        rc, out = webhook(tmp_path, ["worker"], url, env)
        assert rc == 2 and "has no skyforge schema yet" in out
        assert "run `python -m webhook migrate`" in out
        rc, out = webhook(tmp_path, ["migrate"], url, env)
        assert rc == 0 and f"schema version 0 -> {postgres_schema.LATEST}" in out, out
        rc, out = webhook(tmp_path, ["migrate"], url, env)
        assert rc == 0 and f"schema version {postgres_schema.LATEST}, nothing to do" in out, out
        parsed = store_url.parse(raw, "/")
        store = open_url(parsed)   # opens now
        assert isinstance(store, PostgresStore) and store.ping()
        store.close()
        with psycopg.connect(raw, autocommit=True) as conn:
            conn.execute("UPDATE skyforge_schema SET version = 99")
        with pytest.raises(SchemaError, match="schema version 99, newer than this service"):
            open_url(parsed)
        rc, out = webhook(tmp_path, ["worker"], url, env)
        assert rc == 2 and "newer than this service knows" in out
        rc, out = webhook(tmp_path, ["migrate"], url, dict(env, SKYFORGE_TEST_PGPW=""))
        assert rc == 2 and "127.0.0.1" in out and password not in out
        rc, out = webhook(tmp_path, ["migrate"], url, {"PATH": "/usr/bin:/bin"})
        assert rc == 2 and "environment variable SKYFORGE_TEST_PGPW is not set" in out
    finally:
        postgres_server.drop_database(name)


def test_sqlite_store_refuses_a_newer_schema(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    SqliteStore(path)
    assert f"schema version {SCHEMA_VERSION}" in migrate(store_url.parse("sqlite:///" + path, "/"))
    import sqlite3
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    with pytest.raises(SchemaError, match="schema version 7, newer than this service knows"):
        SqliteStore(path)


def test_a_run_never_inherits_the_store_password(tmp_path, monkeypatch):
    from webhook.domain.run_env import run_environment
    monkeypatch.delenv("SKYFORGE_STORE_URL", raising=False)
    cfg = load(tmp_path, "store: {url: 'postgresql://app:env:DB_PW@db/runs'}\n"
                         "executor: {pass_env: ['*']}\nplaybooks: {p: {playbook: site.yml}}\n")
    env = run_environment(cfg, cfg.playbooks["p"], {"DB_PW": "s3cret", "OTHER": "x"})
    assert "DB_PW" not in env and env["OTHER"] == "x"


def _version_1_store(kind, tmp_path, postgres_server, queued):
    """A store as version 1 of this code left it, with ``queued`` runs waiting; its URL."""
    rows = [(f"r{i}", "p", "{}", "queued" if i < queued else "successful", 0.0)
            for i in range(queued + 2)]
    insert = "INSERT INTO runs (id, playbook, vars, status, created_at) VALUES "
    if kind == "sqlite":
        import sqlite3
        path = str(tmp_path / "v1.sqlite3")
        conn = sqlite3.connect(path)
        conn.executescript(MIGRATIONS[1] + "PRAGMA user_version = 1;")
        conn.executemany(insert + "(?, ?, ?, ?, ?)", rows)
        conn.commit()
        conn.close()
        return "sqlite:///" + path
    raw = postgres_server.create_database("t_" + uuid.uuid4().hex[:16])
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(postgres_schema.MIGRATIONS[1])
        conn.execute("CREATE TABLE skyforge_schema (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO skyforge_schema VALUES (1)")
        conn.cursor().executemany(insert + "(%s, %s, %s, %s, %s)", rows)
    return raw


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_version_1_store_is_upgraded_with_its_queue_counted(tmp_path, request, kind):
    server = request.getfixturevalue("postgres_server") if kind == "postgresql" else None
    url = _version_1_store(kind, tmp_path, server, queued=3)
    parsed = store_url.parse(url, "/")
    if kind == "postgresql":
        with pytest.raises(SchemaError, match="has schema version 1; .*webhook migrate"):
            open_url(parsed)
    assert "-> 2" in migrate(parsed) or kind == "sqlite"
    store = open_url(parsed)
    run = {"id": "new", "playbook": "p", "vars": {}, "priority": 0, "created_at": 1.0}
    with pytest.raises(QueueFull):
        store.submit(run, None, "h", 3)
    assert store.submit(run, None, "h", 4)[1]
    assert store.first_use("k", 60)
    store.close()
    if server:
        server.drop_database(parsed.dbname)
