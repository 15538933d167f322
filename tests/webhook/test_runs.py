"""A real gunicorn + worker: run lifecycle, events, SSE resume, stdout, metrics, status."""

import glob
import os
import threading

from tests.webhook.conftest import read_sse
from tests.webhook.store_fixtures import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS

LIFECYCLE = ("run.queued", "run.started", "run.finished")


def artifact_event_count(svc, run_id, ident="main"):
    return len(glob.glob(os.path.join(svc.data_dir, "runs", run_id, "artifacts", ident,
                                      "job_events", "*.json")))


def test_quick_run_lifecycle_and_event_counts(shared_service):
    svc = shared_service
    run = svc.submit("quick", vars={"who": "tester"})
    assert run["status"] == "queued" and run["links"]["events"].endswith("/events")
    done = svc.wait(run["id"])
    assert done["status"] == "successful" and done["rc"] == 0
    assert done["started_at"] >= done["claimed_at"] >= done["created_at"]
    events = svc.events(run["id"])
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    types = [e["type"] for e in events]
    assert [t for t in types if "." in t] == list(LIFECYCLE)
    assert types[0] == "run.queued" and types[-1] == "run.finished"
    runner = [e for e in events if "." not in e["type"]]
    assert len(runner) == artifact_event_count(svc, run["id"]) > 0
    assert [e["data"]["counter"] for e in runner] == list(range(1, len(runner) + 1))
    assert done["event_counts"]["runner"] == len(runner)
    assert "hello tester" in svc.request("GET", f"/api/v1/runs/{run['id']}/stdout")[1]


def test_failed_playbook_is_failed(shared_service):
    svc = shared_service
    run = svc.submit("slow_plain", vars={"seconds": "nope"})   # `sleep nope` fails
    done = svc.wait(run["id"])
    assert done["status"] == "failed" and done["rc"] == 2


def test_many_events_stream_without_loss_and_sse_resume(shared_service):
    # 1,200 items keep the suite fast; bench/bench_webhook.py streams the full 5,000
    svc = shared_service
    run = svc.submit("many", vars={"count": 1200})
    first, ended = read_sse(svc.conn(), f"/api/v1/runs/{run['id']}/events", stop_after=400)
    assert not ended and len(first) == 400
    last_id = first[-1]["id"]
    rest, ended = read_sse(svc.conn(timeout=120), f"/api/v1/runs/{run['id']}/events",
                           headers={"Last-Event-ID": last_id})
    assert ended
    streamed = first + rest
    seqs = [int(e["id"]) for e in streamed]
    assert seqs == list(range(1, len(seqs) + 1))
    assert all(e["event"] == e["data"]["type"] for e in streamed)
    assert streamed[-1]["event"] == "run.finished"
    runner = [e for e in streamed if "." not in e["event"]]
    assert len(runner) == artifact_event_count(svc, run["id"]) >= 1200
    assert len(svc.events(run["id"])) == len(streamed)


def test_sse_keepalive_and_live_delivery(shared_service):
    svc = shared_service
    run = svc.submit("slow_plain", vars={"seconds": 2})
    conn = svc.conn()
    conn.request("GET", f"/api/v1/runs/{run['id']}/events")
    resp = conn.getresponse()
    assert resp.getheader("Content-Type").startswith("text/event-stream")
    body = resp.read().decode()   # the stream ends by itself with `end`
    assert ": keep-alive" in body          # events.keepalive is 1 s, the sleep task 2 s
    assert body.rstrip().endswith('event: end\ndata: {"status": "successful"}')


def test_stdout_follow_streams_until_the_end(shared_service):
    svc = shared_service
    run = svc.submit("quick", vars={"who": "follower"})
    conn = svc.conn()
    conn.request("GET", f"/api/v1/runs/{run['id']}/stdout?follow=1")
    resp = conn.getresponse()
    text = resp.read().decode()
    assert resp.getheader("Content-Type").startswith("text/plain")
    assert "hello follower" in text and "PLAY RECAP" in text


def test_lock_key_serialises_runs_across_slots(shared_service):
    svc = shared_service
    a = svc.submit("slow", vars={"seconds": 1, "lab": "same"})
    b = svc.submit("quick", vars={"lab": "same"})
    c = svc.submit("quick", vars={"lab": "other"})
    ra, rb, rc = (svc.wait(r["id"]) for r in (a, b, c))
    assert rb["lock_key"] == "same" and rc["lock_key"] == "other"
    assert rb["claimed_at"] >= ra["finished_at"]
    assert rc["started_at"] < ra["finished_at"]     # another key runs alongside


def test_list_filters_and_pages(shared_service):
    svc = shared_service
    ids = [svc.submit("quick", vars={"who": str(i)}, priority=i)["id"] for i in range(3)]
    for run_id in ids:
        svc.wait(run_id)
    page = svc.get("/api/v1/runs?playbook=quick&status=successful&limit=2")
    assert page["total"] >= 3 and len(page["items"]) == 2 and page["next"]
    assert all(r["playbook"] == "quick" and r["status"] == "successful" for r in page["items"])
    nxt = svc.get(page["next"])
    assert not {r["id"] for r in nxt["items"]} & {r["id"] for r in page["items"]}


def test_status_metrics_and_health(shared_service):
    svc = shared_service
    svc.wait(svc.submit("quick")["id"])
    status = svc.get("/api/v1/status")
    assert status["workers_alive"] == 1 and status["workers"][0]["slots"] == 2
    assert {"busy", "queue_depth", "oldest_queued_age", "free_slots"} <= set(status)
    assert svc.request("GET", "/healthz")[0] == 200
    assert svc.request("GET", "/readyz")[0] == 200
    _, text, headers = svc.request("GET", "/metrics")
    assert headers["Content-Type"].startswith("text/plain")
    for needle in ('skyforge_webhook_runs_finished_total{playbook="quick",status="successful"}',
                   "skyforge_webhook_queue_latency_seconds_bucket",
                   "skyforge_webhook_run_duration_seconds_count",
                   "skyforge_webhook_workers_alive 1.0", 'skyforge_webhook_runs_queued{playbook="quick"}',
                   "skyforge_webhook_queue_oldest_age_seconds",
                   "skyforge_webhook_cancel_latency_seconds"):
        assert needle in text, needle


def test_an_idle_worker_claims_a_new_run_and_records_when(shared_service):
    # how quickly is a benchmark (bench/bench_webhook.py: queued -> running p50), not a test
    svc = shared_service
    run = svc.submit("quick")
    done = svc.wait(run["id"])
    assert done["status"] == "successful"
    assert done["created_at"] <= done["claimed_at"] <= done["started_at"] <= done["finished_at"]


def test_parallel_streams_all_end(shared_service):
    svc = shared_service
    run = svc.submit("quick")
    results = []

    def reader():
        results.append(read_sse(svc.conn(), f"/api/v1/runs/{run['id']}/events"))

    threads = [threading.Thread(target=reader, daemon=True) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 10 and all(ended for _, ended in results)
    assert len({len(events) for events, _ in results}) == 1


def test_limit_and_tags_reach_ansible(shared_service):
    svc = shared_service
    tagged = svc.submit("quick", vars={"who": "tagged"}, tags=["not-a-tag"])
    limited = svc.submit("quick", vars={"who": "limited"}, limit="nohost")
    done = svc.wait(tagged["id"])
    assert done["status"] == "successful" and done["tags"] == ["not-a-tag"]
    assert "hello tagged" not in svc.request("GET", f"/api/v1/runs/{tagged['id']}/stdout")[1]
    done = svc.wait(limited["id"])
    out = svc.request("GET", f"/api/v1/runs/{limited['id']}/stdout")[1]
    assert "hello limited" not in out and done["limit"] == "nohost"
