"""skyforge.labs webhook service: ``gunicorn -c webhook/gunicorn.conf.py "webhook:create_app()"``.

The app factory lives in ``webhook.app``; this package only re-exports it for that target.
"""

from .app import create_app  # noqa: F401
