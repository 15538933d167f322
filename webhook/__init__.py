"""skyforge.labs webhook service: ``gunicorn -c webhook/gunicorn.conf.py "webhook:create_app()"``.

The app factory lives in ``webhook.app``. It is looked up on first use, not imported here,
so that the worker and the CLI (which import ``webhook.*``) do not load Flask.
"""


def __getattr__(name):
    if name == "create_app":
        from .app import create_app
        return create_app
    raise AttributeError(f"module 'webhook' has no attribute {name!r}")
