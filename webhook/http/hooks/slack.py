"""Slack slash commands: v0 signing (``v0=`` + HMAC-SHA256 of ``v0:<timestamp>:<body>``),
a timestamp within ``max_age`` of now, and every signature accepted only once."""

from ...errors import ApiError
from .payload import parse_form
from .signatures import equal, hmac_digest

SIGNATURE = "X-Slack-Signature"
TIMESTAMP = "X-Slack-Request-Timestamp"


def presence(source, headers):
    if not headers.get(SIGNATURE) or not headers.get(TIMESTAMP):
        raise ApiError(401, f"missing {SIGNATURE} or {TIMESTAMP} header: is this a Slack "
                            "request signed with the app's signing secret?")


def verify(source, headers, body, guard, now):
    presented, stamp = headers.get(SIGNATURE), headers.get(TIMESTAMP)
    try:
        ts = int(stamp)
    except ValueError:
        raise ApiError(401, f"{TIMESTAMP} must be a Unix time in seconds") from None
    if abs(now - ts) > source.max_age:
        raise ApiError(401, f"stale request: {TIMESTAMP} is {int(now - ts)}s from the server "
                            f"clock (accepted: {int(source.max_age)}s); check the clock")
    expected = "v0=" + hmac_digest(source.secret, f"v0:{ts}:".encode() + body).hex()
    if not equal(expected, presented.strip()):
        raise ApiError(401, f"{SIGNATURE} does not match: the signing secret differs from "
                            "hooks.slack.signing_secret, or the body was altered")
    if not guard.first_use("slack:" + expected, source.max_age, now):
        raise ApiError(401, "replayed request: this signed request was already received")
    return None


def parse(headers, body):
    form = parse_form(headers.get("Content-Type"), body)
    form["args"] = form.get("text", "").split()
    return form


def answer(text, link=None):
    """An immediate, private answer in Slack's response format."""
    body = {"response_type": "ephemeral", "text": text}
    if link:
        body["text"] = f"{text}\n<{link}|Open the run>"
    return body
