"""Routes of the dashboard."""

import json
import os
import time

from flask import (Blueprint, Response, current_app, jsonify, render_template,
                   stream_with_context)

from ...domain.runs import run_view
from ..state import services
from ..streams import bounded

MIN_INTERVAL = 0.2   # seconds between two snapshots: a chatty run must not flood the page
RECENT = 50
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


_CACHE = {}


def snapshot():
    """Status (the API's own /status answer) and the newest runs, computed once per store
    change and process however many dashboards are open."""
    generation = services().notifier.current()
    cached = _CACHE.get("snapshot")
    if cached and cached[0] == generation and cached[1] > time.monotonic() - MIN_INTERVAL:
        return cached[2]
    body = _snapshot()
    _CACHE["snapshot"] = (generation, time.monotonic(), body)
    return body


def _snapshot():
    svc = services()
    status = current_app.view_functions["api.status"]().get_json()
    runs, total = svc.store.list_runs(limit=RECENT)
    return {"status": status, "total": total,
            "runs": [run_view(svc.store, r, detail=False) for r in runs]}


def snapshots(keepalive):
    notifier = services().notifier
    generation = notifier.current()
    last = None
    yield "retry: 1000\n\n"
    while True:
        body = json.dumps(snapshot(), separators=(",", ":"))
        if body != last:
            last = body
            yield f"event: snapshot\ndata: {body}\n\n"
        deadline = time.monotonic() + keepalive
        while True:
            new = notifier.wait(generation, max(0.0, deadline - time.monotonic()))
            if new != generation:
                generation = new
                time.sleep(MIN_INTERVAL)
                break
            yield ": keep-alive\n\n"
            deadline = time.monotonic() + keepalive


def make_blueprint():
    bp = Blueprint("dashboard", __name__, template_folder="templates")

    @bp.get("/")
    def index():
        resp = Response(render_template("dashboard.html"), mimetype="text/html")
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        return resp

    @bp.get("/dashboard/catalog")
    def catalog():
        return jsonify({"items": [{"name": e.name, "description": e.description,
                                   "schema": e.schema}
                                  for e in services().config.playbooks.values()]})

    @bp.get("/dashboard/stream")
    def stream():
        keepalive = services().config.events["keepalive"]
        return Response(stream_with_context(bounded(snapshots(keepalive))),
                        mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return bp


def init_app(app):
    # the dashboard's files are the app's static files (served by Flask's own /static
    # route; the core has none of its own)
    app.static_folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
    app.register_blueprint(make_blueprint())
