"""Crafted bad requests against the real service: each gets the right status and a message
that says what is wrong, and none creates a run or a file."""

import hashlib
import hmac
import json
import os

import pytest

from tests.webhook import hook_helpers as H
from tests.webhook.conftest import PLAYBOOKS

LIMIT = 65536
OPERATOR = H.bearer("operator")
JSON = dict(OPERATOR, **{"Content-Type": "application/json"})
TEMPLATED = {  # a catalog entry that opts in to templates (one field) and one reserved name
    "playbook": os.path.join(PLAYBOOKS, "quick.yml"), "schema": {
        "type": "object", "x-skyforge-allow-reserved": ["ansible_user"],
        "properties": {"who": {"type": "string"}, "ansible_user": {"type": "string"},
                       "expr": {"type": "string", "x-skyforge-allow-templates": True}}}}
PATTERNED = {"playbook": os.path.join(PLAYBOOKS, "quick.yml"), "schema": {
    "type": "object", "properties": {
        "lab": {"type": "string", "pattern": "^[a-z]+$"},
        "tags": {"type": "object", "patternProperties": {"^[a-z]+$": {"type": "string"}},
                 "additionalProperties": False}}}}


def api(body, headers=JSON, path="/api/v1/runs", method="POST"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return lambda: (method, path, raw, headers)


def run(vars_=None, playbook="quick", **fields):
    return api(dict({"playbook": playbook, "vars": vars_ or {}}, **fields))


def hook(path, data, headers):
    return lambda: ("POST", path, data, headers)


def github(raw, content_type="application/json", **extra):
    def build():
        data, headers = H.github(None, raw=raw)
        headers["Content-Type"] = content_type
        headers.update(extra)
        return "POST", "/hooks/github", data, headers
    return build


def slack_raw(raw, content_type):
    def build():
        _, headers = H.slack("x")
        ts = headers["X-Slack-Request-Timestamp"]
        headers["X-Slack-Signature"] = "v0=" + hmac.new(
            H.SLACK_SECRET.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
        headers["Content-Type"] = content_type
        return "POST", "/hooks/slack", raw, headers
    return build


def gitlab(payload):
    return lambda: ("POST", "/hooks/gitlab", *H.gitlab(payload))


def nested(depth):
    value = "x"
    for _ in range(depth):
        value = {"k": value}
    return value


CASES = [
    # body, content type, JSON
    (api(b'{"playbook": "quick", "vars": {"who": "' + b"a" * LIMIT + b'"}}'), 413,
     f"larger than {LIMIT} bytes (server.max_body_bytes)"),
    (api({"playbook": "quick"}, dict(OPERATOR, **{"Content-Type": "text/plain"})), 415,
     "Content-Type: application/json"),
    (api({"playbook": "quick"}, OPERATOR), 415, "Content-Type: application/json"),
    (api(b"playbook=quick", dict(OPERATOR, **{
        "Content-Type": "application/x-www-form-urlencoded"})), 415, "as JSON"),
    (api(b'{"playbook": '), 400, "not valid JSON"),
    (api(b'{"playbook": "\xff\xfe"}'), 400, "not valid JSON"),
    (api(b"[" * 20000 + b"]" * 20000), 400, "not valid JSON"),
    (api(b'{"playbook": "quick", "vars": {"who": NaN}}'), 400, "not valid JSON"),
    (api([1, 2]), 400, "must be a JSON object"),
    (api("quick"), 400, "must be a JSON object"),
    # the catalog: only its names can run, never a path
    (run(playbook="nope"), 404, "unknown playbook 'nope'; the catalog has:"),
    (run(playbook="../../../../tmp/skyforge-pwned"), 404, "unknown playbook"),
    (run(playbook="/etc/passwd"), 404, "unknown playbook '/etc/passwd'"),
    (run(playbook="quick.yml"), 404, "unknown playbook 'quick.yml'"),
    (api({"playbook": ["quick"]}), 422, "'playbook' is required"),
    (api({"playbook": "quick", "extra_vars": {"a": 1}}), 422, "unknown field(s) extra_vars"),
    (api({"playbook": "quick", "vars": ["who"]}), 422, "'vars' must be a JSON object"),
    # the schema
    (run({"who": 5}), 422, "at $.vars.who: 5 is not of type 'string'"),
    (run({"colour": "blue"}), 422, "'colour' was unexpected"),
    (run({"seconds": -1}, playbook="slow"), 422, "at $.vars.seconds"),
    # reserved names (template syntax is data: tests/webhook/test_hostile_templates.py)
    (run({"ansible_host": "evil"}), 422, "'ansible_host' is a reserved Ansible variable"),
    (run({"ANSIBLE_PYTHON_INTERPRETER": "/bin/sh"}, playbook="slow_plain"), 422, "reserved"),
    (run({"hostvars": {}}, playbook="slow_plain"), 422, "'hostvars' is a reserved"),
    (run({"environment": {"PATH": "/tmp"}}, playbook="slow_plain"), 422, "'environment' is a"),
    (run({"omit": "x"}, playbook="slow_plain"), 422, "'omit' is a reserved"),
    (run({"playbook_dir": "/tmp"}, playbook="slow_plain"), 422, "'playbook_dir' is a reserved"),
    (run({"vars": {}}, playbook="slow_plain"), 422, "'vars' is a reserved"),
    (run({"ansible_user": "root"}), 422, "'ansible_user' is a reserved"),  # allowed elsewhere only
    (run({"a-b": 1}, playbook="slow_plain"), 422, "'a-b' is not an identifier"),
    # names and patterns match whole strings: a trailing newline is not "the end"
    (run({"hostvars\n": 1}, playbook="slow_plain"), 422, "is not an identifier"),
    (run({"lab": "lab\n"}, playbook="patterned"), 422, "at $.vars.lab: 'lab\\n' does not match"),
    (run({"tags": {"a\n": "x"}}, playbook="patterned"), 422, "at $.vars.tags"),
    # limit and tags: host patterns and tag names only, never a file
    (run(limit="@/etc/passwd"), 422, "'@file' and '~regex' are not accepted"),
    (run(limit="all,@/etc/hosts"), 422, "must be a host pattern"),
    (run(limit="~.*"), 422, "must be a host pattern"),
    (run(limit="{{ groups.all }}"), 422, "must be a host pattern"),
    (run(limit="all\n"), 422, "must be a host pattern"),
    (run(tags=["ok", "@x"]), 422, "'tags' must be a list of at most 64 tag names"),
    (run(tags="a,{% x %}"), 422, "'tags' must be a list"),
    (run({"x": nested(40)}, playbook="slow_plain"), 422, "nested deeper than 32 levels"),
    (run(limit=""), 422, "'limit' must be a non-empty host pattern"),
    (run(priority=10 ** 9), 422, "'priority' must be an integer from -100 to 100"),
    (run(priority=True), 422, "'priority' must be an integer"),
    # headers, tokens, ids
    (api({"playbook": "quick"}, dict(JSON, **{"Idempotency-Key": "k" * 300})), 400,
     "Idempotency-Key must be 1 to 255 characters"),
    (api({"playbook": "quick"}, {"Content-Type": "application/json"}), 401,
     "authentication required"),
    (api({"playbook": "quick"}, dict(H.bearer("viewer"), **{"Content-Type": "application/json"})),
     403, "needs role operator"),
    (api(b"", OPERATOR, path="/api/v1/runs/..%2F..%2Fetc%2Fpasswd/cancel"), 404, "not found"),
    (api(b"", OPERATOR, path="/api/v1/runs/%2e%2e/cancel"), 404, "no run '..'"),
    (api(b"", H.bearer("viewer"), path="/api/v1/runs/..", method="GET"), 404, "no run '..'"),
    # hooks
    (github(b'{"a": "' + b"b" * LIMIT + b'"}'), 413, "larger than 65536 bytes"),
    (github(b'{"ref": "x"}', content_type="application/x-www-form-urlencoded"), 415,
     "choose 'application/json' as the content type in the GitHub webhook settings"),
    (github(b'{"ref": '), 400, "the body is not valid JSON"),
    (github(b'{"ref": "\xff"}'), 400, "not UTF-8 encoded JSON"),
    (github(b"[" * 30000), 400, "not valid JSON"),
    (github(b'{"ref": NaN}'), 400, "NaN is not valid JSON"),
    (github(b"{}", **{"X-GitHub-Delivery": "d" * 300}), 400, "at most 200 printable characters"),
    (github(b"{}", **{"X-GitHub-Delivery": "a\tb"}), 400, "printable characters"),
    (hook("/hooks/github", b"{}", {"Content-Type": "application/json"}), 401,
     "missing X-Hub-Signature-256"),
    (hook("/hooks/generic/..%2F..%2Fetc", b"{}", {"Content-Type": "application/json"}), 404,
     "not found"),
    (hook("/hooks/generic/..", b"{}", {"Content-Type": "application/json"}), 404,
     "no hook 'generic/..' is configured"),
    (slack_raw(b'{"text": "hello x"}', "application/json"), 415,
     "application/x-www-form-urlencoded (a Slack slash command)"),
    (slack_raw(b"text=hello&&&", "application/x-www-form-urlencoded"), 400, "malformed"),
    (slack_raw(b"text=\xff", "application/x-www-form-urlencoded"), 400, "not UTF-8"),
    (gitlab({"object_kind": "push", "user_username": ["a"]}), 422, "at $.vars.who"),
]


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    service = H.start_service(tmp_path_factory.mktemp("hostile"), workers=0,
                              server={"max_body_bytes": LIMIT},
                              playbooks={"templated": TEMPLATED, "patterned": PATTERNED})
    yield service
    service.stop()


@pytest.mark.parametrize("build, status, needle", CASES,
                         ids=[f"{n:02d}-{c[1]}" for n, c in enumerate(CASES)])
def test_hostile_request(svc, build, status, needle):
    method, path, raw, headers = build()
    got, body, _ = svc.request(method, path, raw=raw, headers=headers)
    assert got == status, body
    assert isinstance(body, dict) and body["status"] == status, body
    assert needle in body["error"], body
    assert H.run_total(svc) == 0


def test_no_file_came_from_a_request(svc):
    assert not os.path.exists("/tmp/skyforge-pwned")
    data = os.path.join(svc.dir, "data")
    names = sorted(os.listdir(data))
    assert all(n.startswith("webhook.sqlite3") or n == "runs" for n in names)
    assert not os.path.exists(os.path.join(data, "runs")) or os.listdir(
        os.path.join(data, "runs")) == []


def test_the_schema_can_opt_in_to_templates_and_reserved_names(svc):
    status, body, _ = H.call(svc, "POST", "/api/v1/runs", "operator", {
        "playbook": "templated", "vars": {"expr": "{{ 1 + 1 }}", "ansible_user": "lab"}})
    assert status == 202, body
    assert body["vars"] == {"expr": "{{ 1 + 1 }}", "ansible_user": "lab"}


def chunked(svc, path, data, headers):
    """POST ``data`` with Transfer-Encoding: chunked (no Content-Length)."""
    conn = svc.conn()
    conn.request("POST", path, body=(data[i:i + 4096] for i in range(0, len(data), 4096)),
                 headers=headers, encode_chunked=True)
    resp = conn.getresponse()
    body = json.loads(resp.read())
    conn.close()
    return resp.status, body


def test_chunked_bodies_meet_the_same_limit(svc):
    before = H.run_total(svc)
    big = json.dumps({"playbook": "quick", "vars": {"who": "a" * LIMIT}}).encode()
    status, body = chunked(svc, "/api/v1/runs", big, JSON)
    assert status == 413 and f"larger than {LIMIT} bytes" in body["error"]
    data, headers = H.github(None, raw=json.dumps({"ref": "x" * LIMIT}).encode())
    status, body = chunked(svc, "/hooks/github", data, headers)
    assert status == 413 and f"larger than {LIMIT} bytes" in body["error"]
    assert H.run_total(svc) == before
    # under the limit a chunked body is read whole: signature and JSON are fine
    data, headers = H.github({"ref": "refs/heads/main", "pusher": {"name": "c" * 20000}})
    status, body = chunked(svc, "/hooks/github", data, headers)
    assert status == 202 and body["run"]["vars"]["who"] == "c" * 20000


def test_last_event_id_beyond_64_bits_is_a_400(svc):
    for value in (str(2 ** 63), str(2 ** 70), "-1", "1e3"):
        status, body, _ = H.call(svc, "GET", "/api/v1/runs/x/events", "viewer",
                                 headers={"Last-Event-ID": value, "Accept": "text/event-stream"})
        assert status in (400, 404), (value, body)   # x is no run: 404 comes first
    status, body, _ = H.call(svc, "POST", "/api/v1/runs", "operator",
                             {"playbook": "quick", "vars": {"who": "sse"}})
    for value in (str(2 ** 63), str(2 ** 64 + 5)):
        got, answer, _ = H.call(svc, "GET", f"/api/v1/runs/{body['id']}/events", "viewer",
                                headers={"Last-Event-ID": value, "Accept": "text/event-stream"})
        assert got == 400 and "Last-Event-ID must be an event sequence number" in \
            answer["error"], answer


def _headers_only(svc, request_head):
    """Send a request's head and no body; return the status line the service answers."""
    import socket
    sock = socket.create_connection(("127.0.0.1", svc.port), timeout=5)
    try:
        sock.sendall(request_head.encode())
        return sock.recv(4096).split(b"\r\n", 1)[0].decode()
    except socket.timeout:
        return "no answer within 5 s: the service waited for the body"
    finally:
        sock.close()


@pytest.mark.parametrize("path, extra", [
    ("/api/v1/runs", ""),
    ("/hooks/github", "X-GitHub-Event: push\r\n"),
    ("/hooks/generic/ci", ""),
    ("/hooks/slack", "X-Slack-Signature: v0=00\r\n"),
])
@pytest.mark.parametrize("framing", ["Content-Length: 60000", "Transfer-Encoding: chunked"])
def test_no_body_is_read_before_authentication(svc, path, extra, framing):
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"{extra}{framing}\r\n\r\n")
    assert " 401 " in _headers_only(svc, head) + " "
