"""App-wide answers to hostile bodies, for the API and the hooks alike.

* 413 says which limit (``server.max_body_bytes``) was exceeded, also for a chunked body
  without Content-Length (Werkzeug would silently cut it at the limit: a truncated body
  would then fail as "invalid JSON" or "bad signature" instead);
* JSON that nests too deeply for the parser, or uses NaN/Infinity (not JSON), counts as
  invalid JSON (400) instead of crashing the request (500).
"""

import io
import json

from flask import jsonify
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")


class StrictJSONProvider(DefaultJSONProvider):
    def loads(self, s, **kwargs):
        kwargs.setdefault("parse_constant", _refuse_constant)
        try:
            return json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def _too_large(limit):
    return {"error": f"the body is larger than {limit} bytes (server.max_body_bytes)",
            "status": 413}


class ChunkedBodyLimit:
    """WSGI middleware: read a body sent without Content-Length up to the limit, refuse a
    longer one, and hand the app an ordinary, sized body."""

    def __init__(self, app, limit):
        self.app, self.limit = app, limit

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") in ("POST", "PUT", "PATCH") \
                and not environ.get("CONTENT_LENGTH"):
            data = environ["wsgi.input"].read(self.limit + 1)
            if len(data) > self.limit:
                body = json.dumps(_too_large(self.limit)).encode()
                start_response("413 Request Entity Too Large", [
                    ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                    ("Connection", "close")])
                return [body]
            environ["wsgi.input"] = io.BytesIO(data)
            environ["CONTENT_LENGTH"] = str(len(data))
        return self.app(environ, start_response)


def install(app):
    sort_keys = app.json.sort_keys
    app.json = StrictJSONProvider(app)
    app.json.sort_keys = sort_keys
    limit = app.config.get("MAX_CONTENT_LENGTH")

    if limit:
        app.wsgi_app = ChunkedBodyLimit(app.wsgi_app, limit)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_exc):
        resp = jsonify(_too_large(limit))
        resp.status_code = 413
        return resp
