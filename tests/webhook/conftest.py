"""Run the real service for tests: gunicorn (several workers) and `python -m webhook worker`
processes on a free 127.0.0.1 port with a temporary data_dir."""

import contextlib
import http.client
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import yaml

from webhook.executor.procs import PR_SET_PDEATHSIG, prctl

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(ROOT, "tests", "webhook", "playbooks")
PYTHON = sys.executable
FINAL = ("successful", "failed", "canceled", "error")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def catalog():
    def entry(name, **extra):
        return dict({"playbook": os.path.join(PLAYBOOKS, f"{name}.yml"),
                     "inventory": os.path.join(PLAYBOOKS, "hosts.yml")}, **extra)
    return {
        "quick": entry("quick", schema={"type": "object", "additionalProperties": False,
                                        "properties": {"who": {"type": "string"},
                                                       "lab": {"type": "string"}}},
                       lock="vars.lab"),
        "slow": entry("slow", lock="vars.lab", on_cancel="cleanup",
                      schema={"type": "object", "properties": {
                          "seconds": {"type": "integer", "minimum": 0},
                          "lab": {"type": "string"}, "marker": {"type": "string"},
                          "fail_first": {"type": "boolean"}}}),
        "slow_plain": entry("slow"),
        "slow_short": entry("slow", timeout=1.5),
        "detach": entry("detach"),
        "spawner": entry("spawner"),
        "secret": entry("secret"),
        "many": entry("many_events"),
        "fifty": entry("fifty"),
        "cleanup": entry("cleanup"),
        "secret_forms": entry("secret_forms", schema={"type": "object", "properties": {
            "password": {"type": "string", "x-skyforge-secret": True}}}),
        "echo": entry("echo", schema={"type": "object", "properties": {
            "expr": {"type": "string", "x-skyforge-allow-templates": True}}}),
    }


def write_config(directory, **overrides):
    cfg = {
        "data_dir": "data",
        "server": {"workers": 2, "threads": 16},
        "queue": {"max_depth": 1000, "retry_after": 3, "ttl": 600},
        "worker": {"slots": 2, "heartbeat_interval": 0.5, "dead_after": 3,
                   "reconcile_interval": 0.5},
        "cancel": {"sigint_grace": 1.0, "sigterm_grace": 0.5, "cleanup_backoff": 0.2},
        "events": {"keepalive": 1},
        "playbooks": catalog(),
    }
    # access control is tested on its own (test_access.py); these tests act as an admin
    cfg["auth"] = {"anonymous_role": "admin"}
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key] = dict(cfg[key], **value)
        else:
            cfg[key] = value
    path = os.path.join(directory, "config.yml")
    with open(path, "w") as handle:
        yaml.safe_dump(cfg, handle)
    return path


def _die_with_parent():
    """A test run that is killed must not leave servers behind."""
    prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Service:
    # True: each process leads its own session, so os.killpg takes down a gunicorn master
    # and its workers at once (a whole "host" killed, test_many_hosts.py)
    own_session = False

    def __init__(self, tmp_path, **overrides):
        self.dir = str(tmp_path)
        self.config = write_config(self.dir, **overrides)
        self.data_dir = os.path.join(self.dir, "data")
        self.port = free_port()
        self.env = dict(os.environ, SKYFORGE_CONFIG=self.config,
                        SKYFORGE_BIND=f"127.0.0.1:{self.port}", PYTHONPATH=ROOT)
        self.procs = {}      # name -> the latest process of that name
        self.all_procs = []  # every process started, stopped at the end
        self._n = 0

    # -- processes -----------------------------------------------------------------
    def _spawn(self, name, argv, env=None):
        log = open(os.path.join(self.dir, f"{name}.log"), "ab")
        proc = subprocess.Popen(argv, env=env or self.env, cwd=ROOT, stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent,
                                start_new_session=self.own_session)
        self.procs[name] = proc
        self.all_procs.append((name, proc))
        return proc

    def start_api(self):
        self._spawn("gunicorn", [PYTHON, "-m", "gunicorn", "-c",
                                 os.path.join(ROOT, "webhook", "gunicorn.conf.py"),
                                 "webhook:create_app()"])
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not start: {self.log('gunicorn')}")

    def start_worker(self, worker_id=None, env=None, wait=True):
        self._n += 1
        worker_id = worker_id or f"w{self._n}"
        argv = [PYTHON, "-m", "webhook", "worker", "--id", worker_id]
        proc = self._spawn(f"worker-{worker_id}", argv, dict(self.env, **(env or {})))
        if wait:
            deadline = time.time() + 20
            while time.time() < deadline:
                workers = self.get("/api/v1/status")["workers"]
                if any(w["id"] == worker_id and w["alive"] and w["pid"] == proc.pid
                       for w in workers):
                    return proc
                assert proc.poll() is None, self.log(f"worker-{worker_id}")
                time.sleep(0.05)
            raise RuntimeError(f"worker did not start: {self.log(f'worker-{worker_id}')}")
        return proc

    def open_store(self):
        """The service's store, opened by the test (whichever backend it uses)."""
        from webhook import config as config_mod
        from webhook.store.backends import open_store
        return open_store(config_mod.load(self.config))

    def log(self, name):
        try:
            with open(os.path.join(self.dir, f"{name}.log"), errors="replace") as handle:
                return handle.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        for name, proc in self.all_procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT if name.startswith("worker") else signal.SIGTERM)
        for _, proc in self.all_procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    @contextlib.contextmanager
    def running(self):
        """The API and one worker for the block; stopped on the way out, also when a start fails."""
        try:
            self.start_api()
            self.start_worker()
            yield self
        finally:
            self.stop()

    # -- HTTP ------------------------------------------------------------------------
    def conn(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, raw=None):
        conn = self.conn()
        hdrs = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        conn.close()
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload.decode(errors="replace")
        return resp.status, parsed, dict(resp.getheaders())

    def get(self, path):
        status, body, _ = self.request("GET", path)
        assert status == 200, (path, status, body)
        return body

    def submit(self, playbook, expect=202, headers=None, **fields):
        status, body, _ = self.request("POST", "/api/v1/runs", dict(fields, playbook=playbook),
                                       headers)
        assert status == expect, body
        return body

    def run(self, run_id):
        return self.get(f"/api/v1/runs/{run_id}")

    def wait(self, run_id, statuses=FINAL, timeout=60, cleanup_done=True):
        deadline = time.time() + timeout
        while time.time() < deadline:
            run = self.run(run_id)
            if run["status"] in statuses and not (cleanup_done and run["cleanup_running"]):
                return run
            time.sleep(0.05)
        raise AssertionError(f"run {run_id} still {run['status']}; worker log:\n"
                             + "\n".join(self.log(n) for n in self.procs if n.startswith("worker")))

    def events(self, run_id):
        out, after = [], 0
        while True:
            page = self.get(f"/api/v1/runs/{run_id}/events?after={after}&limit=500")
            out += page["events"]
            after = page["next_after"]
            if not page["more"]:
                return out


def iter_sse(resp):
    """The messages of an SSE answer as they arrive: dicts of their fields (``data`` parsed,
    ``comments`` counted), the ``end`` message included; stops when the answer ends."""
    current = {}
    while True:
        line = resp.readline()
        if not line:
            return
        line = line.decode().rstrip("\n")
        if not line:
            if "data" in current or current.get("event") == "end":
                yield current
            current = {}
            continue
        if line.startswith(":"):
            current.setdefault("comments", 0)
            continue
        field, _, value = line.partition(": ")
        current[field] = value if field != "data" else json.loads(value)


def read_sse(conn, path, headers=None, stop_after=None):
    """Read an SSE stream; return (events, ended). Stops after ``stop_after`` events."""
    conn.request("GET", path, headers=dict(headers or {}, Accept="text/event-stream"))
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()
    events = []
    for message in iter_sse(resp):
        if message.get("event") == "end":
            return events, True
        events.append(message)
        if stop_after and len(events) >= stop_after:
            conn.close()
            return events, False
    return events, False


def run_pids(run_id):
    """Live processes carrying the run's tag in their environment."""
    needle = f"SKYFORGE_RUN_ID={run_id}".encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as handle:
                env = handle.read().split(b"\0")
            with open(f"/proc/{name}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in env and state not in (b"Z", b"X"):
            found.append(int(name))
    return found


def wait_for(predicate, timeout, what, interval=0.05):
    """The first true value of ``predicate()`` within ``timeout`` s, else AssertionError."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


def with_store(databases, overrides):
    """``overrides`` with a fresh store of the module's backend (SQLite: the default)."""
    url = databases.new()
    return dict(overrides, store={"url": url}) if url else overrides


@pytest.fixture
def make_service(tmp_path, store_databases):
    services = []

    def factory(api=True, workers=1, worker_env=None, subdir=None, **overrides):
        directory = tmp_path / (subdir or f"svc{len(services)}")
        directory.mkdir()
        svc = Service(directory, **with_store(store_databases, overrides))
        services.append(svc)   # stopped at teardown even if a start below fails
        if api:
            svc.start_api()
        for _ in range(workers):
            svc.start_worker(env=worker_env)
        return svc

    yield factory
    for svc in services:
        svc.stop()


@pytest.fixture(scope="module")
def shared_service(tmp_path_factory, module_store_databases):
    """One API + one two-slot worker shared by the read-mostly tests of a module."""
    svc = Service(tmp_path_factory.mktemp("shared"), **with_store(module_store_databases, {}))
    with svc.running():
        yield svc


@contextlib.contextmanager
def spawned(target, args_list):
    """Start one spawned process per args tuple; none outlives the block.

    Spawned, not forked: gunicorn forks from a master that has no store and no threads,
    whereas this pytest process holds other tests' checkpointer threads, and a fork taken
    while one of them is inside SQLite would inherit a held SQLite mutex and hang. A hung
    child is killed on the way out: multiprocessing joins every child at interpreter exit,
    so one left behind would hang the whole pytest session.
    """
    procs = [multiprocessing.get_context("spawn").Process(target=target, args=args)
             for args in args_list]
    try:
        for proc in procs:
            proc.start()
        yield procs
    finally:
        for proc in procs:
            proc.join(60)
            if proc.is_alive():
                proc.kill()
                proc.join()
