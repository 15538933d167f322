"""``/hooks/generic/<name>``: an HMAC in a configured header, with a configured algorithm
(hex or base64, optionally prefixed ``<algorithm>=``).

Without ``timestamp_header`` the HMAC covers the raw body, which carries no time: a copy of
a delivery is deduplicated on the body digest (it returns the run the first one created,
whatever delivery id it carries). With ``timestamp_header`` the HMAC covers
``<timestamp>.<body>``, the timestamp (Unix seconds) must be within ``max_age`` of the
server clock, and every signature is accepted once: a replay is refused.
"""

from ...errors import ApiError
from .payload import parse_json
from .signatures import hmac_digest, signature_matches

DEDUPE_ON_BODY = True


def presence(source, headers):
    for header in (source.header, source.timestamp_header):
        if header and not headers.get(header):
            raise ApiError(401, f"missing {header} header: {source.name} needs the "
                                f"HMAC-{source.algorithm.upper()} in {source.header}"
                                + (f" over '<{header}>.<body>'" if source.timestamp_header
                                   else " of the body"))


def signed_message(source, headers, body):
    if source.timestamp_header:
        return headers.get(source.timestamp_header, "").strip().encode() + b"." + body
    return body


def verify(source, headers, body, guard, now):
    presented = headers.get(source.header)
    if source.timestamp_header:
        stamp = headers.get(source.timestamp_header, "").strip()
        if not stamp.isdigit():
            raise ApiError(401, f"{source.timestamp_header} must be a Unix time in seconds")
        if abs(now - int(stamp)) > source.max_age:
            raise ApiError(401, f"stale request: {source.timestamp_header} is "
                                f"{int(now - int(stamp))}s from the server clock (accepted: "
                                f"{int(source.max_age)}s); check the clock")
    message = signed_message(source, headers, body)
    if not signature_matches(source.secret, source.algorithm, message, presented):
        what = f"'<{source.timestamp_header}>.<body>'" if source.timestamp_header else "the body"
        raise ApiError(401, f"{source.header} does not match {what} (HMAC-"
                            f"{source.algorithm.upper()} with the secret of {source.name})")
    # keyed on the digest itself: hex and base64 spellings of one signature are one request
    if source.timestamp_header and not guard.first_use(
            f"{source.name}:{hmac_digest(source.secret, message, source.algorithm).hex()}",
            source.max_age, now):
        raise ApiError(401, "replayed request: this signed request was already received")
    if source.delivery_header:
        return headers.get(source.delivery_header) or None
    return None


def parse(headers, body):
    return parse_json(headers.get("Content-Type"), body, "")
