"""Submissions: concurrency without loss or duplicates, idempotency, backpressure, errors."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.webhook.store_fixtures import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS


@pytest.fixture(scope="module")
def queue_only(tmp_path_factory, module_store_databases):
    """API only, no worker: submitted runs stay queued."""
    from tests.webhook.conftest import Service, with_store
    svc = Service(tmp_path_factory.mktemp("queue"), **with_store(
        module_store_databases, {"queue": {"max_depth": 400, "retry_after": 7}}))
    try:
        svc.start_api()
        yield svc
    finally:
        svc.stop()


def test_concurrent_submissions_none_lost_none_duplicated(queue_only):
    svc = queue_only
    keys = [f"key-{i}" for i in range(150)]
    # every key is sent twice, from different threads and gunicorn workers
    jobs = keys + keys

    def send(key):
        status, body, headers = svc.request("POST", "/api/v1/runs",
                                            {"playbook": "quick", "vars": {"who": key}},
                                            {"Idempotency-Key": key})
        assert status == 202, body
        return key, body["id"], headers.get("Idempotent-Replayed")

    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(send, jobs))
    by_key = {}
    for key, run_id, _ in results:
        by_key.setdefault(key, set()).add(run_id)
    assert all(len(ids) == 1 for ids in by_key.values())
    assert sum(1 for _, _, replay in results if replay) == len(keys)
    listed = svc.get("/api/v1/runs?playbook=quick&status=queued&limit=500")
    ids = [r["id"] for r in listed["items"]]
    assert len(ids) == len(set(ids)) == len(keys)
    assert set(ids) == {next(iter(v)) for v in by_key.values()}
    assert {r["vars"]["who"] for r in listed["items"]} == set(keys)


def test_idempotency_key_reused_for_another_request_is_409(queue_only):
    svc = queue_only
    headers = {"Idempotency-Key": "reuse"}
    svc.submit("quick", vars={"who": "a"}, headers=headers)
    status, body, _ = svc.request("POST", "/api/v1/runs", {"playbook": "quick",
                                                          "vars": {"who": "b"}}, headers)
    assert status == 409 and "Idempotency-Key" in body["error"]


def test_backpressure_429_with_retry_after(queue_only):
    svc = queue_only
    while svc.get("/api/v1/status")["queue_depth"] < 400:
        svc.submit("quick")
    status, body, headers = svc.request("POST", "/api/v1/runs", {"playbook": "quick"})
    assert status == 429 and headers["Retry-After"] == "7" and "queue is full" in body["error"]
    assert svc.get("/api/v1/status")["queue_depth"] == 400
    metrics = svc.request("GET", "/metrics")[1]
    assert 'skyforge_webhook_submissions_rejected_total{reason="queue_full"}' in metrics
    # canceling queued runs frees room again
    run_id = svc.get("/api/v1/runs?status=queued&limit=1")["items"][0]["id"]
    assert svc.request("POST", f"/api/v1/runs/{run_id}/cancel")[0] == 202
    svc.submit("quick")


@pytest.mark.parametrize("body, raw, headers, status, needle", [
    ({"playbook": "nope"}, None, None, 404, "unknown playbook 'nope'"),
    ({"playbook": "quick", "vars": {"who": 3}}, None, None, 422, "$.vars.who"),
    ({"playbook": "quick", "vars": {"extra": 1}}, None, None, 422, "Additional properties"),
    ({"playbook": "quick", "vars": []}, None, None, 422, "'vars' must be a JSON object"),
    ({"playbook": "quick", "colour": 1}, None, None, 422, "unknown field(s) colour"),
    ({"vars": {}}, None, None, 422, "'playbook' is required"),
    ({"playbook": "quick", "priority": 1000}, None, None, 422, "'priority' must be"),
    ({"playbook": "quick", "priority": True}, None, None, 422, "'priority' must be"),
    ({"playbook": "quick", "tags": [1]}, None, None, 422, "'tags' must be"),
    ({"playbook": "quick", "limit": ""}, None, None, 422, "'limit' must be"),
    (None, b"{not json", {"Content-Type": "application/json"}, 400, "not valid JSON"),
    (None, b"[1, 2]", {"Content-Type": "application/json"}, 400, "must be a JSON object"),
    (None, b"playbook=quick", {"Content-Type": "application/x-www-form-urlencoded"}, 415,
     "Content-Type: application/json"),
    (None, b'{"playbook": "quick", "vars": {"who": "' + b"x" * (2 << 20) + b'"}}',
     {"Content-Type": "application/json"}, 413, ""),
    ({"playbook": "quick"}, None, {"Idempotency-Key": "k" * 300}, 400, "Idempotency-Key"),
])
def test_bad_submissions_get_clear_errors_and_create_nothing(queue_only, body, raw, headers,
                                                             status, needle):
    svc = queue_only
    before = svc.get("/api/v1/runs?limit=1")["total"]
    got, payload, _ = svc.request("POST", "/api/v1/runs", body=body, raw=raw, headers=headers)
    assert got == status, payload
    assert needle in json.dumps(payload) if isinstance(payload, dict) else needle in payload
    assert svc.get("/api/v1/runs?limit=1")["total"] == before


@pytest.mark.parametrize("path, status", [
    ("/api/v1/runs/does-not-exist", 404),
    ("/api/v1/runs/does-not-exist/events", 404),
    ("/api/v1/runs/does-not-exist/stdout", 404),
    ("/api/v1/runs?status=bogus", 400),
    ("/api/v1/runs?limit=0", 400),
    ("/api/v1/runs?offset=x", 400),
    ("/api/v1/nothing-here", 404),
])
def test_bad_reads(queue_only, path, status):
    got, payload, _ = queue_only.request("GET", path)
    assert got == status and payload["error"]


def test_readyz_without_worker_is_503(queue_only):
    status, body, _ = queue_only.request("GET", "/readyz")
    assert status == 503 and "no live worker" in body["problems"][0]


def test_queue_position_and_sse_of_queued_run(queue_only):
    svc = queue_only
    for run in svc.get("/api/v1/runs?status=queued&limit=2")["items"]:   # room in the queue
        svc.request("POST", f"/api/v1/runs/{run['id']}/cancel")
    svc.submit("quick")
    newest = svc.run(svc.submit("quick")["id"])
    assert newest["queue_position"] > 1
    # a stream of a queued run delivers what exists, then keeps the connection alive
    conn = svc.conn(timeout=3)
    conn.request("GET", f"/api/v1/runs/{newest['id']}/events")
    resp = conn.getresponse()
    first = resp.readline() + resp.readline() + resp.readline()
    assert first.startswith(b"retry: 1000\n\nid: 1\n")
    conn.close()
