"""A run's SSE stream shows each change, and its end, when it is committed, not at its next
keep-alive.

The keep-alive is 60 s here and the deadlines a few seconds: a stream that missed a wake-up
would show the change only after the test has failed. Streams used to miss the end of every
run: run.finished is a run's last commit, and a stream that had just sent it waited for a
further wake-up (none comes) before it looked at the run's status. One gunicorn process,
so the cancel is committed by the very process that serves the stream (SQLite's
``data_version`` does not move for the connection that commits).

With PostgreSQL the wake-ups come from LISTEN/NOTIFY, across API replicas: a stream on one
API follows a run submitted to another and executed by a worker, also after every
listening connection was killed."""

import json
import queue
import threading
import time

import pytest

from tests.webhook.conftest import Service
from tests.webhook.hook_helpers import store_url_of
from tests.webhook.store_fixtures import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS

PROMPT = 5.0   # generous on a loaded 2-core machine; a missed wake-up costs 60 s


class Stream:
    """Reads one run's SSE stream in a thread; each data line lands in ``lines`` with the
    time it arrived."""

    def __init__(self, svc, run_id):
        self.lines = queue.Queue()
        self.conn = svc.conn(timeout=120)
        self.conn.request("GET", f"/api/v1/runs/{run_id}/events",
                          headers={"Accept": "text/event-stream"})
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        event = None
        while True:
            try:
                line = self.resp.readline()
            except (OSError, AttributeError, ValueError):   # closed by the test
                line = b""
            if not line:
                self.lines.put((time.time(), "closed", None))
                return
            line = line.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                self.lines.put((time.time(), event, json.loads(line[6:])))

    def next(self, timeout=PROMPT):
        return self.lines.get(timeout=timeout)

    def close(self):
        self.conn.close()


@pytest.fixture
def svc(make_service):
    return make_service(workers=0, server={"workers": 1}, events={"keepalive": 60})


def test_a_canceled_queued_run_ends_its_stream_at_once(svc):
    run = svc.submit("quick")
    stream = Stream(svc, run["id"])
    try:
        assert stream.next()[1] == "run.queued"   # the stream is now waiting
        t0 = time.monotonic()
        status, body, _ = svc.request("POST", f"/api/v1/runs/{run['id']}/cancel")
        assert status == 202, body
        kinds = []
        while not kinds or kinds[-1] not in ("end", "closed"):
            kinds.append(stream.next()[1])
        assert time.monotonic() - t0 < PROMPT
        assert kinds[0] == "cancel.requested" and kinds[-2:] == ["run.finished", "end"], kinds
    finally:
        stream.close()


def test_each_event_and_the_end_of_a_run_reach_its_stream_promptly(svc):
    run = svc.submit("slow_plain", vars={"seconds": 2})
    stream = Stream(svc, run["id"])
    try:
        assert stream.next()[1] == "run.queued"
        svc.start_worker()   # another process commits every later event
        lags = []
        while True:
            arrived, kind, data = stream.next(timeout=30)
            if kind in ("end", "closed"):
                break
            lags.append((kind, round(arrived - data["ts"], 2)))
            finished = data["ts"]
        assert kind == "end" and data == {"status": "successful"}
        assert arrived - finished < PROMPT, lags
        assert len(lags) > 5, lags
        assert max(lag for _, lag in lags) < PROMPT, lags
    finally:
        stream.close()


def follow_to_the_end(stream, started=None):
    """Read a stream to its end; the lag of each event (arrival - commit time)."""
    lags = []
    while True:
        arrived, kind, data = stream.next(timeout=30)
        if kind in ("end", "closed"):
            assert kind == "end" and data == {"status": "successful"}, (kind, data, lags)
            return lags, arrived - finished
        lags.append((kind, round(arrived - data["ts"], 2)))
        finished = data["ts"]
        if kind == "run.started" and started:
            started()


def kill_listeners(url):
    """Terminate every connection that LISTENs for changes (what a failover or a network
    cut does to them); return how many there were."""
    import psycopg
    from webhook.store.postgres import LISTENER_NAME
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE application_name = %s AND datname = current_database()",
                            (LISTENER_NAME,)).fetchone()[0]


def test_a_stream_on_another_api_follows_a_run_promptly(make_service, tmp_path, store_backend):
    api_a = make_service(workers=1, server={"workers": 1})
    url = store_url_of(api_a)
    (tmp_path / "b").mkdir()
    api_b = Service(tmp_path / "b", store={"url": url}, server={"workers": 1},
                    events={"keepalive": 60})
    try:
        api_b.start_api()
        for attempt in ("before", "after"):
            run = api_a.submit("slow_plain", vars={"seconds": 3})
            stream = Stream(api_b, run["id"])
            killed = []
            if attempt == "after" and store_backend == "postgresql":
                def cut():
                    killed.append(kill_listeners(url))
            else:
                cut = None
            try:
                lags, end_lag = follow_to_the_end(stream, cut)
            finally:
                stream.close()
            assert len(lags) > 5 and max(lag for _, lag in lags) < PROMPT, lags
            assert end_lag < PROMPT, lags
            if cut:   # API B's and the worker's listeners were cut mid-run
                assert killed and killed[0] >= 2, killed
    finally:
        api_b.stop()
