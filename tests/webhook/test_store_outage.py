"""The PostgreSQL run store going away under load and coming back: the API answers 503 with
Retry-After and an Error body meanwhile, the worker keeps its running run, buffers the
events it writes and stores them, in order, once the server is back; nothing is lost,
nothing runs twice. A PostgreSQL server of this test's own: it is stopped and restarted."""

import json
import threading
import time
import uuid

import pytest

from tests.webhook.conftest import Service, wait_for
from tests.webhook.store_fixtures import started_postgres
from webhook.store import url as store_url
from webhook.store.backends import migrate

TICKS = 30


@pytest.fixture
def own_postgres():
    with started_postgres("skyforge-pg-outage-") as server:
        yield server


class Submitter(threading.Thread):
    """Submits quick runs, each with its own Idempotency-Key, until stopped; a 503 must
    carry Retry-After and an Error body, and the same key is tried again later."""

    def __init__(self, svc):
        super().__init__(daemon=True)
        self.svc, self.stop = svc, threading.Event()
        self.accepted, self.unavailable, self.problems = {}, 0, []

    def run(self):
        key = None
        while not self.stop.is_set():
            key = key or uuid.uuid4().hex
            try:
                status, body, headers = self.svc.request(
                    "POST", "/api/v1/runs", {"playbook": "quick", "vars": {"who": key}},
                    {"Idempotency-Key": key})
            except OSError as exc:
                self.problems.append(f"connection: {exc}")
                continue
            if status == 202:
                self.accepted[key] = body["id"]
                key = None
            elif status == 503:
                self.unavailable += 1
                if not (headers.get("Retry-After", "").isdigit() and body["status"] == 503
                        and "run store" in body["error"]):
                    self.problems.append((status, body, headers))
            else:
                self.problems.append((status, body))
            self.stop.wait(0.25)


def test_a_database_restart_loses_nothing_and_the_api_answers_503(own_postgres, tmp_path):
    migrate(store_url.parse(own_postgres.url, "/"))
    svc = Service(tmp_path, store={"url": own_postgres.url})
    submitter = Submitter(svc)
    try:
        svc.start_api()
        svc.start_worker()
        long = svc.submit("ticks", vars={"ticks": TICKS, "interval": 0.3})
        wait_for(lambda: len(svc.events(long["id"])) > 5, 60, "the long run's first ticks")
        submitter.start()
        time.sleep(1)
        own_postgres.stop()
        outage_started = time.time()
        status, body, headers = svc.request("GET", f"/api/v1/runs/{long['id']}")
        assert status == 503, body
        assert headers["Retry-After"] == "3" and body["status"] == 503
        # where the database is, is for the operator's log, not for whoever asked
        where = f"127.0.0.1:{store_url.parse(own_postgres.url, '/').port}"
        assert where not in json.dumps(body) and body["error"].startswith("the run store is unavailable")
        assert where in svc.log("gunicorn")
        # longer than worker.dead_after: nobody may be reaped for its old heartbeat
        time.sleep(max(0.0, 5 - (time.time() - outage_started)))
        own_postgres.resume()
        resumed = time.time()
        time.sleep(2)
        submitter.stop.set()
        submitter.join(60)

        run = svc.wait(long["id"], timeout=120)
        assert run["status"] == "successful", run
        events = svc.events(long["id"])
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        types = [e["type"] for e in events]
        assert "run.reaped" not in types and "run.requeued" not in types, types
        assert types.count("runner_item_on_ok") == TICKS, types
        assert types[-1] == "run.finished"
        # ticks the worker took in while the database was down (it stamps what it reads) were
        # stored after it came back: the worker buffered them, it did not wait for the store
        ticks = [e["ts"] for e in events if e["type"] == "runner_item_on_ok"]
        assert any(outage_started < ts < resumed for ts in ticks), (outage_started, resumed, ticks)

        assert submitter.unavailable > 0 and not submitter.problems, submitter.problems
        for key, run_id in submitter.accepted.items():
            done = svc.wait(run_id, timeout=120)
            assert done["status"] == "successful" and done["vars"]["who"] == key, done
        listed = svc.get("/api/v1/runs?limit=1")
        # every run is one the submitter was told about (or the long one): none twice
        assert listed["total"] == len(submitter.accepted) + 1
        assert svc.get("/api/v1/status")["queue_depth"] == 0
    finally:
        submitter.stop.set()
        svc.stop()
