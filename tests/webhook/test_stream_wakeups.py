"""A run's SSE stream shows each change, and its end, when it is committed, not at its next
keep-alive.

The keep-alive is 60 s here and the deadlines a few seconds: a stream that missed a wake-up
would show the change only after the test has failed. Streams used to miss the end of every
run: run.finished is a run's last commit, and a stream that had just sent it waited for a
further wake-up (none comes) before it looked at the run's status. One gunicorn process,
so the cancel is committed by the very process that serves the stream (SQLite's
``data_version`` does not move for the connection that commits)."""

import json
import queue
import threading
import time

import pytest

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
