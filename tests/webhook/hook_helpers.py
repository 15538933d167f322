"""Shared by the access, hooks, hostile and dashboard tests: tokens, a service config with
hooks and rules, and the signing each sender does."""

import hashlib
import hmac
import json
import time
import uuid

import pytest
import yaml

from tests.webhook.conftest import Service, with_store

TOKENS = {"viewer": "sfw_viewer-token-0001", "operator": "sfw_operator-token-0002",
          "admin": "sfw_admin-token-0003"}
GITHUB_SECRET = "gh-secret-Ünïcode"
GITLAB_TOKEN = "gl-token-123"
SLACK_SECRET = "slack-signing-secret"
GENERIC_SECRET = "generic-secret"
ENV = {"SF_TEST_GITHUB_SECRET": GITHUB_SECRET, "SF_TEST_SLACK_SECRET": SLACK_SECRET}


def auth_section(**extra):
    tokens = [{"name": f"{role}-1", "role": role,
               "sha256": hashlib.sha256(tok.encode()).hexdigest()}
              for role, tok in TOKENS.items()]
    return dict({"anonymous_role": None, "tokens": tokens}, **extra)


HOOKS = {
    "public_url": "https://skyforge.example.com",
    "github": {"secret": "env:SF_TEST_GITHUB_SECRET"},
    "gitlab": {"token": GITLAB_TOKEN},
    "slack": {"signing_secret": "env:SF_TEST_SLACK_SECRET"},
    "generic": {
        "ci": {"header": "X-Signature", "algorithm": "sha512", "secret": GENERIC_SECRET,
               "delivery_header": "X-Delivery"},
        "legacy": {"header": "X-Sig", "algorithm": "sha1", "secret": GENERIC_SECRET},
        "stamped": {"header": "X-Signature", "secret": GENERIC_SECRET,
                    "timestamp_header": "X-Timestamp", "max_age": 60},
    },
}

RULES = [
    {"name": "push-main", "source": "github",
     "when": "headers.\"x-github-event\" == 'push' && payload.ref == 'refs/heads/main'",
     "playbook": "quick", "vars": {"who": "payload.pusher.name", "lab": "payload.repository.name"}},
    {"name": "release", "source": "github",
     "when": "headers.\"x-github-event\" == 'release'",
     "playbook": "quick", "vars": {"who": "payload.release.tag_name"}},
    {"name": "gitlab-push", "source": "gitlab", "when": "payload.object_kind == 'push'",
     "playbook": "quick", "vars": {"who": "payload.user_username"}},
    {"name": "slack-hello", "source": "slack",
     "when": "payload.command == '/lab' && payload.args[0] == 'hello'",
     "playbook": "quick", "vars": {"who": "payload.args[1]"}},
    {"name": "ci-render", "source": "generic/ci", "when": "payload.action == 'render'",
     "playbook": "quick", "vars": {"who": "payload.who", "lab": "payload.lab"}},
    {"name": "legacy", "source": "generic/legacy", "playbook": "quick",
     "vars": {"who": "payload.who"}},
    {"name": "stamped", "source": "generic/stamped", "playbook": "quick",
     "vars": {"who": "payload.who"}},
]


class AuthedService(Service):
    """The core's test service; its own helpers (worker start-up, waits) read as admin."""

    def get(self, path):
        status, body, _ = self.request("GET", path, headers=bearer("admin"))
        assert status == 200, (path, status, body)
        return body


def start_service(directory, workers=1, started=None, **overrides):
    """A real gunicorn (2 processes) + worker with tokens, hooks and rules configured;
    the caller stops it (``started`` collects it before anything can fail)."""
    cfg = {"auth": auth_section(), "hooks": HOOKS, "rules": RULES}
    cfg.update(overrides)
    svc = AuthedService(directory, **cfg)
    if started is not None:
        started.append(svc)
    svc.env.update(ENV)
    svc.start_api()
    for _ in range(workers):
        svc.start_worker()
    return svc


@pytest.fixture
def authed_service(tmp_path, store_databases):
    """Factory fixture: ``authed_service(workers=0, auth=...)``, on a fresh store of the
    module's backend."""
    started = []

    def factory(workers=1, **overrides):
        directory = tmp_path / f"svc{len(started)}"
        directory.mkdir()
        return start_service(directory, workers, started,
                             **with_store(store_databases, overrides))

    yield factory
    for svc in started:
        svc.stop()


def store_url_of(svc):
    """The store URL another service needs to share ``svc``'s store (SQLite: its file)."""
    from webhook import config as config_mod
    url = config_mod.load(svc.config).store_url
    if url.kind == "sqlite":
        return url.display()
    with open(svc.config) as handle:
        return yaml.safe_load(handle)["store"]["url"]   # with its password


def bearer(role):
    return {"Authorization": f"Bearer {TOKENS[role]}"}


def call(svc, method, path, role=None, body=None, headers=None, raw=None):
    hdrs = dict(bearer(role) if role else {}, **(headers or {}))
    return svc.request(method, path, body=body, headers=hdrs, raw=raw)


def run_total(svc):
    status, body, _ = call(svc, "GET", "/api/v1/runs?limit=1", "viewer")
    assert status == 200, body
    return body["total"]


def github(payload, event="push", delivery=None, secret=GITHUB_SECRET, raw=None):
    """(raw body, headers) as GitHub sends a delivery."""
    data = raw if raw is not None else json.dumps(payload).encode()
    sig = "sha256=" + hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
    return data, {"Content-Type": "application/json", "X-GitHub-Event": event,
                  "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
                  "X-Hub-Signature-256": sig}


def gitlab(payload, token=GITLAB_TOKEN, uuid_=None):
    headers = {"Content-Type": "application/json", "X-Gitlab-Event": "Push Hook",
               "X-Gitlab-Token": token}
    if uuid_:
        headers["X-Gitlab-Event-UUID"] = uuid_
    return json.dumps(payload).encode(), headers


def slack(text, command="/lab", ts=None, secret=SLACK_SECRET, **fields):
    from urllib.parse import urlencode
    form = dict({"token": "legacy", "team_id": "T1", "channel_id": "C1", "user_id": "U1",
                 "user_name": "alice", "command": command, "text": text,
                 "response_url": "https://hooks.slack.invalid/x", "trigger_id": "t"}, **fields)
    data = urlencode(form).encode()
    ts = int(time.time()) if ts is None else ts
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + data,
                           hashlib.sha256).hexdigest()
    return data, {"Content-Type": "application/x-www-form-urlencoded",
                  "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sig}


def generic_sig(data, algorithm="sha512", secret=GENERIC_SECRET):
    return hmac.new(secret.encode(), data, getattr(hashlib, algorithm))


def post(svc, path, data, headers):
    return svc.request("POST", path, raw=data, headers=headers)
