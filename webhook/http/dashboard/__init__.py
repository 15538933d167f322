"""The dashboard at ``/``: a page served by the service itself (no CDN, no build step) that
calls the API with the token the user types in (kept in sessionStorage).

Besides the page and its static files it adds two read endpoints (viewer role):
``/dashboard/stream`` (SSE: a snapshot of the newest runs and the status, sent whenever any
process commits a change, at most every ``MIN_INTERVAL``) and ``/dashboard/catalog``.

Installed by ``webhook.app.create_app`` through ``views.init_app``.
"""
