"""Turn a verified raw body into the ``payload`` document rules see."""

import json
from urllib.parse import parse_qsl

from ...errors import ApiError

MAX_FORM_FIELDS = 200


def _no_constants(name):
    raise ValueError(f"{name} is not valid JSON")


def parse_json(content_type: str, body: bytes, hint: str):
    mimetype = (content_type or "").split(";", 1)[0].strip().lower()
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ApiError(415, f"expected Content-Type: application/json, got "
                            f"'{mimetype or 'none'}'{hint}")
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise ApiError(400, "the body is not UTF-8 encoded JSON") from None
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"the body is not valid JSON: {str(exc)[:200]}") from None


def parse_form(content_type: str, body: bytes):
    mimetype = (content_type or "").split(";", 1)[0].strip().lower()
    if mimetype != "application/x-www-form-urlencoded":
        raise ApiError(415, f"expected Content-Type: application/x-www-form-urlencoded "
                            f"(a Slack slash command), got '{mimetype or 'none'}'")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body),
                          max_num_fields=MAX_FORM_FIELDS)
    except UnicodeDecodeError:
        raise ApiError(400, "the form body is not UTF-8") from None
    except ValueError as exc:
        raise ApiError(400, f"the form body is malformed: {exc}") from None
    return dict(pairs)
