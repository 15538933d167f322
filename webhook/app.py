"""skyforge.labs webhook service: ``gunicorn -c webhook/gunicorn.conf.py "webhook:create_app()"``.

Everything the app has is installed here, in this order, by explicit calls: nothing
registers itself on import. A new feature adds its blueprint or ``init_app`` call here and,
if it owns a config section, its parser to ``webhook.config.EXTRA_SECTIONS``.
"""

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from . import config as config_mod
from .errors import ApiError
from .http import api, auth, hardening
from .http.dashboard import views as dashboard
from .http.events import Notifier
from .http.hooks import views as hooks
from .http.metrics import make_registry
from .http.state import KEY, Services
from .http.streams import StreamLimiter
from .store import StoreUnavailable
from .store.backends import open_store

def create_app(config=None):
    """Build the Flask app from ``config`` (a Config, a path, or $SKYFORGE_CONFIG)."""
    if not isinstance(config, config_mod.Config):
        config = config_mod.load(config)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.server["max_body_bytes"]
    app.json.sort_keys = False
    store = open_store(config)
    app.extensions[KEY] = Services(config=config, store=store,
                                   notifier=Notifier(store, config.events["poll_interval"]),
                                   metrics=make_registry(config, store),
                                   streams=StreamLimiter(config.server["max_streams"],
                                                         config.server["max_streams_per_token"]))
    app.register_blueprint(api.make_api_blueprint())
    app.register_blueprint(api.make_health_blueprint())

    @app.errorhandler(ApiError)
    def api_error(exc):
        resp = jsonify(exc.body())
        resp.status_code = exc.status
        resp.headers.update(exc.headers)
        if exc.status in (401, 413):   # a refused sender's body is never read
            resp.headers["Connection"] = "close"
        return resp

    @app.errorhandler(StoreUnavailable)
    def store_unavailable(exc):
        # a database restart or failover: the client retries (an Idempotency-Key makes
        # a retry of a submission that did commit return that run, not queue another).
        # Where the store is and why it failed go to the log, not to the caller, who may
        # be anyone a hook or an anonymous role lets in.
        app.logger.warning("answering 503: %s", exc)
        return api_error(ApiError(503, "the run store is unavailable; retry later", headers={
            "Retry-After": str(config.queue["retry_after"])}))

    @app.errorhandler(HTTPException)
    def http_error(exc):
        resp = jsonify({"error": exc.description, "status": exc.code})
        resp.status_code = exc.code
        # keep what the exception says besides its body: Allow on a 405 (RFC 9110)
        resp.headers.update((k, v) for k, v in exc.get_headers() if k.lower() != "content-type")
        return resp

    auth.init_app(app)       # the token check runs before any other request hook
    hardening.install(app)   # the service is exposed: hostile bodies get 4xx, never 500
    hooks.init_app(app)
    dashboard.init_app(app)
    return app
