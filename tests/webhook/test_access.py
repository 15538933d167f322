"""Access control: bearer tokens with roles against the real service (gunicorn + worker),
the constant-time lookup, the config checks and the token CLI."""

import hashlib
import hmac
import subprocess
import sys

import pytest
import yaml

from tests.webhook import hook_helpers as H
from tests.webhook.conftest import ROOT
from tests.webhook.hook_helpers import authed_service  # noqa: F401 (fixture)
from webhook import config
from webhook.http import auth, auth_settings


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    service = H.start_service(tmp_path_factory.mktemp("access"))
    yield service
    service.stop()


def test_missing_token_is_401_with_a_hint(svc):
    status, body, headers = svc.request("GET", "/api/v1/runs")
    assert status == 401
    assert "Authorization: Bearer" in body["error"]
    assert headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header, needle", [
    ("Bearer sfw_not-a-real-token", "unknown or revoked token"),
    ("Basic dXNlcjpwYXNz", "use 'Authorization: Bearer <token>'"),
    ("Bearer", "use 'Authorization: Bearer <token>'"),
    (f"Bearer {H.TOKENS['viewer']}x", "unknown or revoked token"),
])
def test_unknown_or_malformed_token_is_401(svc, header, needle):
    status, body, _ = svc.request("GET", "/api/v1/status", headers={"Authorization": header})
    assert status == 401 and needle in body["error"]


def test_roles(svc):
    assert H.call(svc, "GET", "/api/v1/runs", "viewer")[0] == 200
    # a viewer may read but not submit or cancel
    status, body, _ = H.call(svc, "POST", "/api/v1/runs", "viewer", {"playbook": "quick"})
    assert status == 403
    assert "role viewer" in body["error"] and "needs role operator" in body["error"]
    assert H.run_total(svc) == 0
    # the scheme is case-insensitive, as RFC 7235 says
    status, run, _ = svc.request("POST", "/api/v1/runs", {"playbook": "quick"},
                                 {"Authorization": f"bearer {H.TOKENS['operator']}"})
    assert status == 202, run
    status, body, _ = H.call(svc, "POST", f"/api/v1/runs/{run['id']}/cancel", "viewer")
    assert status == 403
    status, body, _ = H.call(svc, "POST", f"/api/v1/runs/{run['id']}/cancel", "admin")
    assert status == 202 or (status == 409 and "already finished" in body["error"])
    # admin-only: the token list, which never shows digests
    assert H.call(svc, "GET", "/api/v1/auth/tokens", "operator")[0] == 403
    status, body, _ = H.call(svc, "GET", "/api/v1/auth/tokens", "admin")
    assert status == 200
    assert {t["name"]: t["role"] for t in body["items"]} == {
        "viewer-1": "viewer", "operator-1": "operator", "admin-1": "admin"}
    assert "sha256" not in str(body)
    assert H.call(svc, "GET", "/api/v1/auth/whoami", "operator")[1] == {
        "name": "operator-1", "role": "operator"}


def test_open_and_protected_endpoints(svc):
    assert svc.request("GET", "/healthz")[0] == 200
    assert svc.request("GET", "/readyz")[0] in (200, 503)
    assert svc.request("GET", "/")[0] == 200                     # the page holds no data
    assert svc.request("GET", "/static/dashboard.js")[0] == 200
    assert svc.request("GET", "/metrics")[0] == 401
    status, text, _ = H.call(svc, "GET", "/metrics", "viewer")
    assert status == 200 and "skyforge_webhook_" in text
    for path in ("/dashboard/stream", "/dashboard/catalog", "/api/v1/openapi.json",
                 "/api/v1/nothing-here", "/nothing-here"):
        assert svc.request("GET", path)[0] == 401, path
    # hooks do not take bearer tokens: they verify signatures (401 from the hook itself)
    status, body, _ = svc.request("POST", "/hooks/github", {"x": 1})
    assert status == 401 and "X-Hub-Signature-256" in body["error"]


def test_anonymous_role_and_open_metrics(authed_service):
    svc = authed_service(workers=0, auth=H.auth_section(anonymous_role="viewer",
                                                               open_metrics=True))
    assert svc.request("GET", "/api/v1/runs")[0] == 200
    assert svc.request("GET", "/metrics")[0] == 200
    assert svc.request("GET", "/api/v1/auth/whoami")[1] == {"name": "anonymous",
                                                            "role": "viewer"}
    status, body, _ = svc.request("POST", "/api/v1/runs", {"playbook": "quick"})
    assert status == 403 and "'anonymous' has role viewer" in body["error"]
    # a wrong token is refused, never downgraded to anonymous
    status, _, _ = svc.request("GET", "/api/v1/runs",
                               headers={"Authorization": "Bearer wrong"})
    assert status == 401


def test_no_tokens_configured_denies_everything_but_health(authed_service):
    svc = authed_service(workers=0, auth={"anonymous_role": None})
    status, body, _ = svc.request("GET", "/api/v1/runs")
    assert status == 401 and "no tokens are configured" in body["error"]
    assert svc.request("GET", "/healthz")[0] == 200


def test_lookup_compares_every_digest_without_early_exit(monkeypatch):
    tokens = [auth_settings.Token(f"t{i}", "viewer", hashlib.sha256(f"tok{i}".encode()).hexdigest())
              for i in range(5)]
    calls = []
    real = hmac.compare_digest

    def counting(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", counting)
    assert auth.find_token("tok0", tokens).name == "t0"     # the first one matches…
    assert len(calls) == 5                                  # …and all five are compared
    calls.clear()
    assert auth.find_token("nope", tokens) is None
    assert len(calls) == 5


@pytest.mark.parametrize("section, needle", [
    ({"tokens": [{"name": "a", "role": "root", "sha256": "0" * 64}]}, "role must be one of"),
    ({"tokens": [{"name": "a", "role": "viewer", "sha256": "abc"}]}, "must be 64 hex digits"),
    ({"tokens": [{"name": "a", "role": "viewer", "token": "x", "sha256": "0" * 64}]},
     "unknown key 'token'"),
    ({"tokens": [{"name": "a", "role": "viewer", "sha256": "0" * 64},
                 {"name": "a", "role": "admin", "sha256": "1" * 64}]}, "used twice"),
    ({"tokens": [{"name": "a", "role": "viewer", "sha256": "0" * 64},
                 {"name": "b", "role": "admin", "sha256": "0" * 64}]}, "configured twice"),
    ({"anonymous_role": "guest"}, "anonymous_role: role must be one of"),
    ({"open_metrics": "yes"}, "open_metrics: expected a boolean"),
    ({"tokenz": []}, "unknown key 'tokenz'"),
])
def test_config_errors(tmp_path, section, needle):
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump({"auth": section}))
    with pytest.raises(config.ConfigError) as err:
        config.load(str(path))
    assert needle in str(err.value) and str(path) in str(err.value)


def test_token_cli_output_works_in_the_config(tmp_path):
    out = subprocess.run([sys.executable, "-m", "webhook", "token", "--name", "ci",
                          "--role", "operator"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    token = out.splitlines()[0].split("token: ", 1)[1]
    entry = yaml.safe_load("\n".join(line for line in out.splitlines()[1:]
                                     if not line.startswith("#")))
    assert entry == [{"name": "ci", "role": "operator",
                      "sha256": hashlib.sha256(token.encode()).hexdigest()}]
    assert token not in yaml.safe_dump(entry)
    svc = H.AuthedService(tmp_path, auth={"anonymous_role": None, "tokens": entry})
    try:
        svc.start_api()
        status, run, _ = svc.request("POST", "/api/v1/runs", {"playbook": "quick"},
                                     {"Authorization": f"Bearer {token}"})
        assert status == 202, run
        assert svc.request("GET", "/api/v1/runs")[0] == 401
    finally:
        svc.stop()
    bad = subprocess.run([sys.executable, "-m", "webhook.tokens_cli", "--name", "a b",
                          "--role", "operator"], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "--name" in bad.stderr


def test_the_body_limit_does_not_depend_on_the_token_check(tmp_path, monkeypatch):
    # create_app installs the body protection itself: an app without the token check
    # still answers an oversized body with the 413 that names the limit
    from webhook.app import create_app
    from tests.webhook.conftest import write_config
    monkeypatch.setattr(auth, "init_app", lambda app: None)
    app = create_app(write_config(str(tmp_path), server={"max_body_bytes": 1000}))
    assert not any(f.__module__ == auth.__name__ for f in app.before_request_funcs[None])
    answer = app.test_client().post("/api/v1/runs", data=b"{" + b" " * 2000 + b"}",
                                    content_type="application/json")
    assert answer.status_code == 413
    assert "server.max_body_bytes" in answer.get_json()["error"]
