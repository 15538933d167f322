"""App-wide answers to hostile bodies, for the API and the hooks alike.

* 413 says which limit (``server.max_body_bytes``) was exceeded, also for a chunked body
  without Content-Length (Werkzeug would silently cut it at the limit: a truncated body
  would then fail as "invalid JSON" or "bad signature" instead); such a body is read only
  after authentication;
* JSON that nests too deeply for the parser, or uses NaN/Infinity (not JSON), counts as
  invalid JSON (400) instead of crashing the request (500).
"""

import io
import json

from flask import jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge


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


def buffer_chunked_body(limit):
    """Read a body sent without Content-Length up to the limit (413 beyond), and hand the
    app an ordinary, sized body. Called only once the sender is authenticated (after the
    token check; by a hook once its signature header is there), so an anonymous client
    cannot make the service read a body."""
    environ = request.environ
    if environ.get("REQUEST_METHOD") not in ("POST", "PUT", "PATCH") \
            or environ.get("CONTENT_LENGTH") or environ.get("skyforge.buffered"):
        return
    data = environ["wsgi.input"].read(limit + 1)
    if len(data) > limit:
        raise RequestEntityTooLarge()
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))
    environ["skyforge.buffered"] = True


def install(app):
    """Call after the token check is registered: before_request functions run in order."""
    sort_keys = app.json.sort_keys
    app.json = StrictJSONProvider(app)
    app.json.sort_keys = sort_keys
    limit = app.config.get("MAX_CONTENT_LENGTH")

    stall = app.extensions["skyforge"].config.server["request_timeout"]

    @app.before_request
    def bound_stalls():
        # a body that stops arriving, or an answer nobody reads, frees its connection
        sock = request.environ.get("gunicorn.socket")
        if sock is not None:
            sock.settimeout(stall)

    @app.teardown_request
    def unbound(_exc):
        # between requests gunicorn's own keep-alive timeout applies
        sock = request.environ.get("gunicorn.socket")
        if sock is not None:
            sock.settimeout(None)

    if limit:
        @app.before_request
        def buffer_body():
            if not request.path.startswith("/hooks/"):   # hooks call it after their check
                buffer_chunked_body(limit)

    @app.errorhandler(TimeoutError)
    @app.errorhandler(ClientDisconnected)
    def stalled(_exc):
        resp = jsonify({"error": f"the request body ended early or stalled for {stall} s "
                                 "(server.request_timeout)", "status": 408})
        resp.status_code = 408
        resp.headers["Connection"] = "close"
        return resp

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_exc):
        resp = jsonify(_too_large(limit))
        resp.status_code = 413
        resp.headers["Connection"] = "close"   # the rest of the body is never read
        return resp
