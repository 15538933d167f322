"""Every signature variant of every hook, against the real service (2 gunicorn processes):
valid, invalid, missing, replayed, stale (Slack is the only scheme with a timestamp)."""

import base64
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.webhook import hook_helpers as H
from tests.webhook.conftest import with_store
from tests.webhook.store_fixtures import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS

PUSH = {"ref": "refs/heads/main", "pusher": {"name": "octo"}, "repository": {"name": "lab1"}}


def push():
    """A push event; like GitHub's, each one differs (here by its `after` commit)."""
    return dict(PUSH, after=uuid.uuid4().hex)


@pytest.fixture(scope="module")
def svc(tmp_path_factory, module_store_databases):
    service = H.start_service(tmp_path_factory.mktemp("sigs"), workers=0,
                              **with_store(module_store_databases, {}))
    yield service
    service.stop()


def refused(svc, path, data, headers, needle, status=401):
    before = H.run_total(svc)
    got, body, _ = H.post(svc, path, data, headers)
    assert got == status, body
    assert needle in body["error"], body
    assert H.run_total(svc) == before
    return body


# -- GitHub ---------------------------------------------------------------------------------
def test_github_valid(svc):
    data, headers = H.github(push())
    status, body, _ = H.post(svc, "/hooks/github", data, headers)
    assert status == 202, body
    assert body["matched"] and body["rule"] == "push-main" and not body["duplicate"]
    assert body["run"]["vars"] == {"who": "octo", "lab": "lab1"}


def test_github_invalid(svc):
    data, headers = H.github(PUSH)
    refused(svc, "/hooks/github", data + b" ", headers, "does not match the body")
    data, headers = H.github(PUSH, secret="another secret")
    refused(svc, "/hooks/github", data, headers, "does not match the body")
    data, headers = H.github(PUSH)
    headers["X-Hub-Signature-256"] = headers["X-Hub-Signature-256"].replace("sha256=", "sha1=")
    refused(svc, "/hooks/github", data, headers, "does not match the body")


def test_github_missing(svc):
    data, headers = H.github(PUSH)
    del headers["X-Hub-Signature-256"]
    refused(svc, "/hooks/github", data, headers, "missing X-Hub-Signature-256")


def test_github_replayed_delivery_returns_the_same_run(svc):
    data, headers = H.github(push(), delivery="replayed-delivery-1")
    first = H.post(svc, "/hooks/github", data, headers)[1]
    total = H.run_total(svc)
    with ThreadPoolExecutor(8) as pool:   # concurrent redeliveries hit both gunicorn workers
        again = list(pool.map(lambda _: H.post(svc, "/hooks/github", data, headers), range(8)))
    assert {(s, b["run"]["id"], b["duplicate"]) for s, b, _ in again} == {
        (202, first["run"]["id"], True)}
    assert H.run_total(svc) == total


def test_github_body_replayed_under_a_new_delivery_id_starts_nothing(svc):
    """The signature does not cover X-GitHub-Delivery: whoever saw a delivery could re-send
    its body under a fresh id. It gets the first delivery's run back."""
    data, headers = H.github(push(), delivery="original-delivery")
    first = H.post(svc, "/hooks/github", data, headers)[1]
    total = H.run_total(svc)
    status, again, _ = H.post(svc, "/hooks/github", data, dict(headers, **{"X-GitHub-Delivery": "forged-new-id"}))
    assert status == 202 and again["duplicate"] and again["run"]["id"] == first["run"]["id"]
    assert again["delivery"] == "forged-new-id" and H.run_total(svc) == total


def test_an_api_client_cannot_pre_claim_a_delivery(svc):
    status, squatter, _ = H.call(svc, "POST", "/api/v1/runs", "operator", {"playbook": "quick"},
                                 headers={"Idempotency-Key": "hook:github:future-delivery"})
    assert status == 202
    data, headers = H.github(push(), delivery="future-delivery")
    status, body, _ = H.post(svc, "/hooks/github", data, headers)
    assert status == 202 and not body["duplicate"] and body["run"]["id"] != squatter["id"]


# -- GitLab ---------------------------------------------------------------------------------
def test_gitlab_valid_and_replayed(svc):
    data, headers = H.gitlab({"object_kind": "push", "user_username": "gl"}, uuid_="gl-uuid-1")
    status, first, _ = H.post(svc, "/hooks/gitlab", data, headers)
    assert status == 202 and first["matched"] and first["run"]["vars"] == {"who": "gl"}
    status, again, _ = H.post(svc, "/hooks/gitlab", data, headers)
    assert status == 202 and again["duplicate"] and again["run"]["id"] == first["run"]["id"]


def test_gitlab_invalid_and_missing(svc):
    data, headers = H.gitlab({"object_kind": "push"}, token=H.GITLAB_TOKEN + "x")
    refused(svc, "/hooks/gitlab", data, headers, "does not match hooks.gitlab.token")
    data, headers = H.gitlab({"object_kind": "push"}, token=H.GITLAB_TOKEN[:-1])
    refused(svc, "/hooks/gitlab", data, headers, "does not match hooks.gitlab.token")
    del headers["X-Gitlab-Token"]
    refused(svc, "/hooks/gitlab", data, headers, "missing X-Gitlab-Token")


# -- Slack ----------------------------------------------------------------------------------
def test_slack_valid_answers_in_slack_format(svc):
    data, headers = H.slack("hello slackers")
    status, body, resp_headers = H.post(svc, "/hooks/slack", data, headers)
    assert status == 200 and resp_headers["Content-Type"] == "application/json"
    assert body["response_type"] == "ephemeral"
    assert "Started `quick` run " in body["text"] and "status *queued*" in body["text"]
    run_id = body["text"].split("run ", 1)[1].split(":", 1)[0]
    assert f"<https://skyforge.example.com/#run={run_id}|Open the run>" in body["text"]
    assert svc.run(run_id)["vars"] == {"who": "slackers"}


def test_slack_unmatched_commands_answer_200_and_template_text_is_data(svc):
    before = H.run_total(svc)
    data, headers = H.slack("goodbye")
    status, body, _ = H.post(svc, "/hooks/slack", data, headers)
    assert status == 200 and "No rule matches" in body["text"]
    assert H.run_total(svc) == before
    # template syntax is not refused: it reaches Ansible marked unsafe, as literal text
    data, headers = H.slack("hello {{lookup('pipe','id')}}")
    status, body, _ = H.post(svc, "/hooks/slack", data, headers)
    assert status == 200 and "Started `quick` run " in body["text"], body
    run_id = body["text"].split("run ", 1)[1].split(":", 1)[0]
    assert svc.run(run_id)["vars"] == {"who": "{{lookup('pipe','id')}}"}


def test_slack_invalid_and_missing(svc):
    data, headers = H.slack("hello x", secret="wrong")
    refused(svc, "/hooks/slack", data, headers, "X-Slack-Signature does not match")
    data, headers = H.slack("hello x")
    refused(svc, "/hooks/slack", data.replace(b"hello", b"HELLO"), headers, "does not match")
    for missing in ("X-Slack-Signature", "X-Slack-Request-Timestamp"):
        data, headers = H.slack("hello x")
        del headers[missing]
        refused(svc, "/hooks/slack", data, headers, "missing X-Slack-Signature or")
    data, headers = H.slack("hello x")
    headers["X-Slack-Request-Timestamp"] = "yesterday"
    refused(svc, "/hooks/slack", data, headers, "Unix time")


def test_slack_stale(svc):
    now = int(time.time())
    for ts in (now - 301, now + 400, 0):
        data, headers = H.slack("hello old", ts=ts)
        refused(svc, "/hooks/slack", data, headers, "stale request")
    data, headers = H.slack("hello recent", ts=now - 200)     # inside the 5 minutes
    assert H.post(svc, "/hooks/slack", data, headers)[0] == 200


def test_slack_replay_refused_across_processes(svc):
    data, headers = H.slack("hello once")
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: H.post(svc, "/hooks/slack", data, headers), range(8)))
    statuses = sorted(s for s, _, _ in results)
    assert statuses == [200] + [401] * 7, results
    assert all("replayed request" in b["error"] for s, b, _ in results if s == 401)
    assert sum("Started" in b.get("text", "") for s, b, _ in results) == 1


def test_replays_are_refused_by_another_replica_of_the_same_store(svc, tmp_path):
    """A second API (another data_dir, as on another host) sharing the run store knows
    what the first one saw: a Slack replay and a GitHub body under a new delivery id."""
    store_url = H.store_url_of(svc)
    other = H.start_service(tmp_path, workers=0, store={"url": store_url})
    try:
        data, headers = H.slack("hello replica")
        assert H.post(svc, "/hooks/slack", data, headers)[0] == 200
        status, body, _ = H.post(other, "/hooks/slack", data, headers)
        assert status == 401 and "replayed request" in body["error"]
        data, headers = H.github(push())
        first = H.post(svc, "/hooks/github", data, headers)[1]["run"]["id"]
        headers["X-GitHub-Delivery"] = str(uuid.uuid4())
        again = H.post(other, "/hooks/github", data, headers)[1]
        assert again["duplicate"] and again["run"]["id"] == first
    finally:
        other.stop()


# -- generic --------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["prefixed-hex", "hex", "upper-hex", "base64"])
def test_generic_valid_encodings(svc, fmt):
    data = json.dumps({"action": "render", "who": fmt}).encode()
    mac = H.generic_sig(data)
    value = {"prefixed-hex": "sha512=" + mac.hexdigest(), "hex": mac.hexdigest(),
             "upper-hex": mac.hexdigest().upper(),
             "base64": base64.b64encode(mac.digest()).decode()}[fmt]
    status, body, _ = H.post(svc, "/hooks/generic/ci", data,
                             {"Content-Type": "application/json", "X-Signature": value})
    assert status == 202 and body["matched"] and body["run"]["vars"]["who"] == fmt, body


def test_generic_other_algorithm_and_header(svc):
    data = json.dumps({"who": "legacy"}).encode()
    value = "sha1=" + H.generic_sig(data, "sha1").hexdigest()
    status, body, _ = H.post(svc, "/hooks/generic/legacy", data,
                             {"Content-Type": "application/json", "X-Sig": value})
    assert status == 202 and body["rule"] == "legacy"


def test_generic_invalid_missing_and_replayed(svc):
    data = json.dumps({"action": "render", "who": "x"}).encode()
    base = {"Content-Type": "application/json"}
    sha256 = H.generic_sig(data, "sha256").hexdigest()      # the wrong algorithm for 'ci'
    refused(svc, "/hooks/generic/ci", data, dict(base, **{"X-Signature": sha256}),
            "X-Signature does not match the body (HMAC-SHA512")
    wrong = H.generic_sig(data, secret="nope").hexdigest()
    refused(svc, "/hooks/generic/ci", data, dict(base, **{"X-Signature": wrong}),
            "does not match")
    refused(svc, "/hooks/generic/ci", data, dict(base, **{"X-Signature": "!!notbase64"}),
            "does not match")
    refused(svc, "/hooks/generic/ci", data, base, "missing X-Signature header")
    signed = dict(base, **{"X-Signature": H.generic_sig(data).hexdigest(), "X-Delivery": "d-1"})
    first = H.post(svc, "/hooks/generic/ci", data, signed)[1]
    again = H.post(svc, "/hooks/generic/ci", data, signed)[1]
    assert again["duplicate"] and again["run"]["id"] == first["run"]["id"]
    refused(svc, "/hooks/generic/nope", data, signed, "no hook 'generic/nope'", 404)


def test_generic_copies_are_deduplicated_on_the_body(svc):
    """A captured signed body resent with a new delivery id, or none, starts nothing new."""
    data = json.dumps({"action": "render", "who": "dedupe-" + uuid.uuid4().hex}).encode()
    signed = {"Content-Type": "application/json", "X-Signature": H.generic_sig(data).hexdigest()}
    first = H.post(svc, "/hooks/generic/ci", data, dict(signed, **{"X-Delivery": "d-a"}))[1]
    assert not first["duplicate"]
    before = H.run_total(svc)
    for extra in ({"X-Delivery": "d-b"}, {}, {"X-Delivery": uuid.uuid4().hex}):
        again = H.post(svc, "/hooks/generic/ci", data, dict(signed, **extra))[1]
        assert again["duplicate"] and again["run"]["id"] == first["run"]["id"], again
    legacy = json.dumps({"who": "legacy-" + uuid.uuid4().hex}).encode()
    sig = {"Content-Type": "application/json", "X-Sig": H.generic_sig(legacy, "sha1").hexdigest()}
    one = H.post(svc, "/hooks/generic/legacy", legacy, sig)[1]
    two = H.post(svc, "/hooks/generic/legacy", legacy, sig)[1]
    assert two["duplicate"] and two["run"]["id"] == one["run"]["id"]
    assert H.run_total(svc) == before + 1


def stamped(data, ts=None, message=None):
    ts = str(int(time.time()) if ts is None else ts)
    mac = H.generic_sig(message if message is not None else ts.encode() + b"." + data, "sha256")
    return {"Content-Type": "application/json", "X-Timestamp": ts, "X-Signature": mac.hexdigest()}


def test_generic_signed_timestamp_refuses_replays_and_stale_requests(svc):
    data = json.dumps({"who": "stamped"}).encode()
    headers = stamped(data)
    status, body, _ = H.post(svc, "/hooks/generic/stamped", data, headers)
    assert status == 202 and body["matched"] and body["rule"] == "stamped", body
    refused(svc, "/hooks/generic/stamped", data, headers, "replayed request")
    b64 = dict(headers, **{"X-Signature": base64.b64encode(bytes.fromhex(
        headers["X-Signature"])).decode()})
    refused(svc, "/hooks/generic/stamped", data, b64, "replayed request")
    refused(svc, "/hooks/generic/stamped", data, stamped(data, ts=int(time.time()) - 120),
            "stale request: X-Timestamp is 120s")
    refused(svc, "/hooks/generic/stamped", data, stamped(data, message=data),
            "does not match '<X-Timestamp>.<body>'")
    no_ts = {k: v for k, v in stamped(data).items() if k != "X-Timestamp"}
    refused(svc, "/hooks/generic/stamped", data, no_ts, "missing X-Timestamp header")
    # a new timestamp is a new, freshly signed request: the sender may repeat a body
    time.sleep(1.1)
    status, again, _ = H.post(svc, "/hooks/generic/stamped", data, stamped(data))
    assert status == 202 and not again["duplicate"], again
