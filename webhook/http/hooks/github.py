"""GitHub: ``X-Hub-Signature-256`` is ``sha256=`` + HMAC-SHA256 of the raw body;
``X-GitHub-Delivery`` identifies a delivery (a redelivery repeats it).

The signature covers the body only, so anyone who saw one delivery could re-send it under
a new delivery id: the signed body is therefore also remembered, with the delivery that
first carried it, and a copy under another id answers with that delivery's run."""

from ...errors import ApiError
from .payload import parse_json
from .signatures import equal, hmac_digest

SIGNATURE = "X-Hub-Signature-256"
DELIVERY = "X-GitHub-Delivery"
DEDUPE_ON_BODY = True


def presence(source, headers):
    if not headers.get(SIGNATURE):
        raise ApiError(401, f"missing {SIGNATURE} header: set the secret in the GitHub webhook "
                            "settings (the same value as hooks.github.secret)")


def verify(source, headers, body, guard, now):
    presented = headers.get(SIGNATURE)
    expected = "sha256=" + hmac_digest(source.secret, body).hex()
    if not equal(expected, presented.strip()):
        raise ApiError(401, f"{SIGNATURE} does not match the body: the webhook secret differs "
                            "from hooks.github.secret, or the body was altered")
    delivery = headers.get(DELIVERY)
    if not delivery:
        raise ApiError(400, f"missing {DELIVERY} header (GitHub always sends it)")
    return delivery


def parse(headers, body):
    return parse_json(headers.get("Content-Type"), body,
                      " (choose 'application/json' as the content type in the GitHub webhook "
                      "settings)")
