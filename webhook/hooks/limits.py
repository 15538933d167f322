"""A clear 413 for every endpoint (the API's JSON body and the hooks' raw body)."""

from flask import jsonify
from werkzeug.exceptions import RequestEntityTooLarge


def install_error_handlers(app):
    limit = app.config.get("MAX_CONTENT_LENGTH")

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_exc):
        resp = jsonify({"error": f"the body is larger than {limit} bytes "
                                 "(server.max_body_bytes)", "status": 413})
        resp.status_code = 413
        return resp
