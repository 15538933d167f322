"""``/hooks/generic/<name>``: an HMAC of the raw body in a configured header, with a
configured algorithm (hex or base64, optionally prefixed ``<algorithm>=``)."""

from ..service import ApiError
from .payload import parse_json
from .signatures import signature_matches


def presence(source, headers):
    if not headers.get(source.header):
        raise ApiError(401, f"missing {source.header} header: it must carry the "
                            f"HMAC-{source.algorithm.upper()} of the body")


def verify(source, headers, body, guard, now):
    presented = headers.get(source.header)
    if not signature_matches(source.secret, source.algorithm, body, presented):
        raise ApiError(401, f"{source.header} does not match the body (HMAC-"
                            f"{source.algorithm.upper()} with the secret of {source.name})")
    if source.delivery_header:
        return headers.get(source.delivery_header) or None
    return None


def parse(headers, body):
    return parse_json(headers.get("Content-Type"), body, "")
