"""Idle connections cannot take the service down: hundreds of open SSE streams and
half-sent requests leave /healthz, the API and the hooks answering; streams are bounded
per token and in total (503 + Retry-After); incomplete requests are timed out."""

import json
import socket
import time

import pytest

from tests.webhook import hook_helpers as H

STREAMS = 300
HALF_OPEN = 150
TIMEOUT = 2


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    started = []
    try:
        yield H.start_service(tmp_path_factory.mktemp("connections"), workers=0,
                              started=started, server={
                                  "workers": 2, "request_timeout": TIMEOUT,
                                  "max_streams": 1000, "max_streams_per_token": 400})
    finally:
        for service in started:
            service.stop()


def _open(svc, head):
    sock = socket.create_connection(("127.0.0.1", svc.port), timeout=10)
    sock.sendall(head.encode())
    return sock


def _sse_head(path, role="viewer"):
    return (f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
            f"Authorization: Bearer {H.TOKENS[role]}\r\n\r\n")


def _timed(call):
    t0 = time.monotonic()
    result = call()
    return result, time.monotonic() - t0


def test_open_streams_and_half_sent_requests_do_not_block_anyone(svc):
    status, run, _ = H.call(svc, "POST", "/api/v1/runs", "operator",
                            {"playbook": "quick", "vars": {"who": "stream"}})
    assert status == 202
    socks = []
    try:
        for _ in range(STREAMS):
            socks.append(_open(svc, _sse_head(f"/api/v1/runs/{run['id']}/events")))
        for _ in range(HALF_OPEN):   # a request head that never ends
            socks.append(_open(svc, "POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Ty"))
        for sock in socks[:STREAMS]:   # every stream is really open (served, not queued)
            sock.settimeout(10)
            assert sock.recv(64).startswith(b"HTTP/1.1 200"), "a stream was not answered"
        (status, _, _), took = _timed(lambda: svc.request("GET", "/healthz"))
        assert status == 200 and took < 2, took
        for n in range(20):
            (status, body, _), took = _timed(lambda: H.call(
                svc, "POST", "/api/v1/runs", "operator",
                {"playbook": "quick", "vars": {"who": f"while-busy-{n}"}}))
            assert status == 202 and took < 2, (status, took)
        data, headers = H.github({"ref": "refs/heads/main", "pusher": {"name": "busy"}})
        (status, body, _), took = _timed(lambda: H.post(svc, "/hooks/github", data, headers))
        assert status == 202 and took < 2, (body, took)
    finally:
        for sock in socks:
            sock.close()


def test_streams_beyond_the_bound_get_503_with_retry_after(svc):
    status, run, _ = H.call(svc, "POST", "/api/v1/runs", "operator",
                            {"playbook": "quick", "vars": {"who": "bound"}})
    socks, refused = [], []
    try:
        # 2 processes x 400 per token: 900 streams of one token cannot all be open
        for _ in range(900):
            sock = _open(svc, _sse_head(f"/api/v1/runs/{run['id']}/stdout?follow=1"))
            sock.settimeout(10)
            head = sock.recv(4096)
            if head.startswith(b"HTTP/1.1 503"):
                while b"}" not in head.partition(b"\r\n\r\n")[2]:   # body in a 2nd read
                    head += sock.recv(4096)
                refused.append(head)
                sock.close()
            else:
                assert head.startswith(b"HTTP/1.1 200"), head[:200]
                socks.append(sock)
        assert refused and len(socks) <= 800, len(socks)
        assert b"Retry-After: 3" in refused[0] and b"max_streams_per_token" in refused[0]
        # another token still gets its own streams
        other = _open(svc, _sse_head("/dashboard/stream", role="admin"))
        other.settimeout(10)
        assert other.recv(64).startswith(b"HTTP/1.1 200")
        other.close()
    finally:
        for sock in socks:
            sock.close()


def test_an_incomplete_request_head_is_closed_after_the_timeout(svc):
    sock = _open(svc, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
    sock.settimeout(TIMEOUT + 10)
    t0 = time.monotonic()
    assert sock.recv(4096) == b""      # closed without an answer
    assert time.monotonic() - t0 < TIMEOUT + 5
    sock.close()


def test_a_stalled_body_is_timed_out(svc):
    body = json.dumps({"playbook": "quick", "vars": {"who": "stall"}}).encode()
    sock = _open(svc, "POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                      f"\r\nAuthorization: Bearer {H.TOKENS['operator']}\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n")
    sock.sendall(body[:10])
    sock.settimeout(TIMEOUT + 10)
    t0 = time.monotonic()
    answer = sock.recv(4096)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert time.monotonic() - t0 < TIMEOUT + 5
    sock.close()
