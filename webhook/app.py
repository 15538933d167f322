"""skyforge.labs webhook service: ``gunicorn -c webhook/gunicorn.conf.py "webhook:create_app()"``.

Extension seams for later features:

* ``webhook.extensions.OPTIONAL_MODULES``: a module listed there that exists is imported
  before the config is parsed (so it can call ``webhook.config.register_section('auth',
  parser)``) and its ``init_app(app)`` is called after the core blueprints are registered.
* ``register_blueprint(factory)`` adds a blueprint factory for every app created afterwards.
* ``webhook.domain.runs.submit_run`` / ``cancel_run`` are the functions triggers call.
"""

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from . import config as config_mod
from . import extensions as extensions_mod
from .domain.runs import ApiError
from .http.events import Notifier
from .http.metrics import make_registry
from .http.state import KEY, Services
from .http.streams import StreamLimiter
from .store import open_store

_BLUEPRINT_FACTORIES = []


def register_blueprint(factory):
    _BLUEPRINT_FACTORIES.append(factory)


def create_app(config=None):
    """Build the Flask app from ``config`` (a Config, a path, or $SKYFORGE_CONFIG)."""
    from .http.api import make_api_blueprint, make_health_blueprint

    extensions = extensions_mod.load()
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
    for factory in [make_api_blueprint, make_health_blueprint] + _BLUEPRINT_FACTORIES:
        app.register_blueprint(factory())

    @app.errorhandler(ApiError)
    def api_error(exc):
        resp = jsonify(exc.body())
        resp.status_code = exc.status
        resp.headers.update(exc.headers)
        if exc.status in (401, 413):   # a refused sender's body is never read
            resp.headers["Connection"] = "close"
        return resp

    @app.errorhandler(HTTPException)
    def http_error(exc):
        resp = jsonify({"error": exc.description, "status": exc.code})
        resp.status_code = exc.code
        return resp

    for module in extensions:
        init = getattr(module, "init_app", None)
        if init:
            init(app)
    return app
