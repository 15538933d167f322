"""schemathesis hooks (SCHEMATHESIS_HOOKS) for tests/webhook/test_openapi_fuzz.py: sign every
hook delivery that carries its signature header the way the sender would, so generated
deliveries reach the rules and the run submission behind the signature check. A request
sent without the header (schemathesis' ignored_auth check) stays unsigned and must get 401."""

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import schemathesis

from tests.webhook.hook_helpers import GITHUB_SECRET, GITLAB_TOKEN, HOOKS, SLACK_SECRET

DECLARED = {"/hooks/github": "X-Hub-Signature-256", "/hooks/gitlab": "X-Gitlab-Token",
            "/hooks/slack": "X-Slack-Signature", "/hooks/generic/{name}": "X-Signature"}


def _mac(secret, data, algorithm="sha256"):
    return hmac.new(secret.encode(), data, getattr(hashlib, algorithm)).hexdigest()


def _raw_body(case):
    body = case.body
    media = (case.media_type or "").split(";")[0].strip().lower()
    if type(body).__name__ == "NotSet":
        return b""
    if media == "application/json":
        return json.dumps(body).encode()
    if media == "application/x-www-form-urlencoded" and isinstance(body, dict):
        return urlencode(body).encode()
    return None


def _sign(case, raw):
    path, headers, now = case.operation.path, case.headers, str(int(time.time()))
    if path == "/hooks/github":
        headers["X-Hub-Signature-256"] = "sha256=" + _mac(GITHUB_SECRET, raw)
    elif path == "/hooks/gitlab":
        headers["X-Gitlab-Token"] = GITLAB_TOKEN
    elif path == "/hooks/slack":
        if "X-Slack-Request-Timestamp" in headers:   # else: the missing-header check
            headers["X-Slack-Request-Timestamp"] = now
        now = headers.get("X-Slack-Request-Timestamp", "")
        headers["X-Slack-Signature"] = "v0=" + _mac(SLACK_SECRET, f"v0:{now}:".encode() + raw)
    else:
        hook = HOOKS["generic"].get(case.path_parameters.get("name"))
        if hook is None:
            return
        if hook.get("timestamp_header"):
            headers[hook["timestamp_header"]] = now
            raw = now.encode() + b"." + raw
        headers[hook["header"]] = _mac(hook["secret"], raw, hook.get("algorithm", "sha256"))


@schemathesis.hook
def before_call(context, case, kwargs):
    declared = DECLARED.get(case.operation.path)
    if declared is None or not case.headers or \
            declared.lower() not in {name.lower() for name in case.headers}:
        return
    raw = _raw_body(case)
    if raw is None:
        return
    kwargs["data"] = raw
    _sign(case, raw)
