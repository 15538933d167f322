"""Secrets never reach the disk or a client, in any form: a run prints an environment secret
and a declared secret var raw, JSON-escaped (once and twice), as YAML and shell-quoted; then
every file under the service's directory (SQLite files and the run dirs included) and every
API answer is searched. Runs get only the environment the config gives them."""

import hashlib
import json
import os
import shlex
import time

import pytest

from tests.webhook import hook_helpers as H
from tests.webhook.serve_process import Serve

# quotes, a backslash and a non-ASCII letter: each encoder spells these differently
ENV_SECRET = "e\"nv\\Sëcret'-7f1e2d9c"
VAR_SECRET = "v\"ar\\Pässword'-81b2c3aa"
UNLISTED = "unlisted-value-5d4c3b2a"


def spellings(secret):
    """What a leak would look like: the forms, and the tail no encoder changes."""
    return {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
            shlex.quote(secret), secret.replace("'", "''"), secret.rsplit("-", 1)[1]}


NEEDLES = sorted({s.encode() for secret in (ENV_SECRET, VAR_SECRET, H.GITHUB_SECRET, UNLISTED)
                  for s in spellings(secret)})


def leaks(blob):
    return [n for n in NEEDLES if n in blob]


def files_with_leaks(directory):
    found, checked = {}, 0
    for root, _, files in os.walk(directory):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                hit = leaks(handle.read())
            checked += 1
            if hit:
                found[os.path.relpath(path, directory)] = hit
    return found, checked


@pytest.fixture
def svc(tmp_path):
    started = []
    env = {"SF_TEST_SECRET_TOKEN": ENV_SECRET, "SF_TEST_UNLISTED": UNLISTED}
    try:
        service = H.start_service(tmp_path, workers=0, started=started, executor={
            "pass_env": ["SF_TEST_SECRET_TOKEN", "SF_TEST_GITHUB_*"]})
        service.start_worker(env=dict(H.ENV, **env))
        yield service
    finally:
        for service in started:
            service.stop()


def api_answers(svc, run_id):
    conn = svc.conn()
    conn.request("GET", f"/api/v1/runs/{run_id}/events",
                 headers=dict(H.bearer("viewer"), Accept="text/event-stream"))
    yield "sse", conn.getresponse().read()
    conn.close()
    for path in (f"/api/v1/runs/{run_id}", f"/api/v1/runs/{run_id}/events?after=0&limit=500",
                 f"/api/v1/runs/{run_id}/stdout", "/api/v1/runs", "/api/v1/status", "/metrics"):
        status, body, _ = H.call(svc, "GET", path, "admin")
        assert status == 200, (path, body)
        yield path, (body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
                     ).encode()


def test_secrets_are_masked_everywhere_and_gone_from_disk(svc):
    status, body, _ = H.call(svc, "POST", "/api/v1/runs", "operator", {
        "playbook": "secret_forms", "vars": {"password": VAR_SECRET}})
    assert status == 202, body
    assert body["vars"] == {"password": "********"}
    final = svc.wait(body["id"], timeout=180)
    stdout = H.call(svc, "GET", f"/api/v1/runs/{body['id']}/stdout", "viewer")[1]
    assert final["status"] == "successful", stdout[-3000:]
    # the declared secret reached the run unchanged, and is masked where printed
    digest = hashlib.sha256(VAR_SECRET.encode()).hexdigest()
    assert f"sha256 {digest} length {len(VAR_SECRET)}" in stdout
    assert "raw ******** / ********" in stdout
    # runs get only what the config passes: no hook secret, no unlisted variable
    assert "SF_TEST_GITHUB_SECRET" not in stdout and "SF_TEST_UNLISTED" not in stdout
    assert "SF_TEST_SECRET_TOKEN=********" in stdout
    for where, answer in api_answers(svc, body["id"]):
        assert not leaks(answer), (where, leaks(answer))
    # the run dir and the SQLite files (WAL included) within seconds of the end
    deadline = time.time() + 20
    while True:
        found, checked = files_with_leaks(svc.dir)
        if not found or time.time() > deadline:
            break
        time.sleep(0.2)
    assert checked > 10 and not found, found
    run_dir = os.path.join(svc.data_dir, "runs", body["id"], "artifacts", "main")
    assert not os.path.exists(os.path.join(run_dir, "stdout"))
    assert not os.path.exists(os.path.join(run_dir, "fact_cache"))


@pytest.mark.parametrize("value", ["abc", 1234, ["a-list"]])
def test_a_secret_var_must_be_a_string_long_enough_to_mask(svc, value):
    status, body, _ = H.call(svc, "POST", "/api/v1/runs", "operator", {
        "playbook": "secret_forms", "vars": {"password": value}})
    assert status == 422 and body["path"] == "$.vars.password", body


def test_serve_keeps_hook_secrets_from_the_worker(tmp_path):
    svc = H.AuthedService(tmp_path, auth=H.auth_section(), hooks=H.HOOKS, rules=H.RULES)
    serve = Serve(tmp_path, svc=svc, env=H.ENV)
    try:
        workers = svc.get("/api/v1/status")["workers"]
        with open(f"/proc/{workers[0]['pid']}/environ", "rb") as handle:
            environ = handle.read()
        assert b"SF_TEST_GITHUB_SECRET" not in environ and H.GITHUB_SECRET.encode() not in environ
        assert b"SF_TEST_SLACK_SECRET" not in environ
    finally:
        serve.stop()
