"""App-wide answers to hostile bodies, for the API and the hooks alike.

* 413 says which limit (``server.max_body_bytes``) was exceeded;
* JSON that nests too deeply for the parser, or uses NaN/Infinity (not JSON), counts as
  invalid JSON (400) instead of crashing the request (500).
"""

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


def install(app):
    sort_keys = app.json.sort_keys
    app.json = StrictJSONProvider(app)
    app.json.sort_keys = sort_keys
    limit = app.config.get("MAX_CONTENT_LENGTH")

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_exc):
        resp = jsonify({"error": f"the body is larger than {limit} bytes "
                                 "(server.max_body_bytes)", "status": 413})
        resp.status_code = 413
        return resp
