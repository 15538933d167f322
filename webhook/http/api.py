"""The /api/v1 blueprint and the health/metrics endpoints."""

import re
import time
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, request, stream_with_context

from . import events as ev
from .metrics import render
from .openapi import openapi_document
from ..domain.runs import cancel_run, iso, run_view, submit_run
from .state import services
from ..errors import ApiError
from ..store import STATES, worker_alive
from .streams import bounded

API = "/api/v1"
MAX_PAGE = 500
MAX_SEQ = 2 ** 62   # sequence numbers are SQLite integers (64-bit signed)
SEQ = re.compile(r"[0-9]{1,18}")   # below MAX_SEQ, and the document's pattern says the same
INTEGER = re.compile(r"-?[0-9]{1,30}")   # int() alone would also take ' 5', '+5', '1_0', '٣'


def _int_arg(name, default, low, high):
    raw = request.args.get(name)
    if raw is None:
        return default
    if not INTEGER.fullmatch(raw):
        raise ApiError(400, f"query parameter '{name}' must be an integer, got '{raw[:40]}'")
    value = int(raw)
    if not low <= value <= high:
        raise ApiError(400, f"query parameter '{name}' must be between {low} and {high}")
    return value


def _run_or_404(run_id):
    run = services().store.get_run(run_id)
    if run is None:
        raise ApiError(404, f"no run '{run_id}'")
    return run


def json_body():
    if not request.is_json:
        raise ApiError(415, "send the request as JSON (Content-Type: application/json)")
    request.get_data(cache=True)   # a body cut short or stalled: 408 (webhook.hardening)
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "the request body is not valid JSON")
    return body


def make_api_blueprint():
    bp = Blueprint("api", __name__, url_prefix=API)

    @bp.post("/runs")
    def create_run():
        svc = services()
        key = request.headers.get("Idempotency-Key")
        if key is not None and not 1 <= len(key) <= 255:
            raise ApiError(400, "Idempotency-Key must be 1 to 255 characters")
        run, created = submit_run(svc.config, svc.store, json_body(), key)
        # no queue position / event counts here: they cost a scan per submission
        resp = jsonify(run_view(svc.store, run, detail=False))
        resp.status_code = 202
        resp.headers["Location"] = f"{API}/runs/{run['id']}"
        if not created:
            resp.headers["Idempotent-Replayed"] = "true"
        return resp

    @bp.get("/runs")
    def list_runs():
        svc = services()
        status = request.args.get("status")
        if status is not None and status not in STATES:
            raise ApiError(400, f"unknown status '{status}' (one of {', '.join(STATES)})")
        limit = _int_arg("limit", 50, 1, MAX_PAGE)
        offset = _int_arg("offset", 0, 0, 10 ** 9)
        runs, total = svc.store.list_runs(status=status, playbook=request.args.get("playbook"),
                                          limit=limit, offset=offset)
        body = {"items": [run_view(svc.store, r, detail=False) for r in runs], "total": total,
                "limit": limit, "offset": offset, "next": None}
        if offset + len(runs) < total:
            args = dict(request.args, offset=offset + limit, limit=limit)
            body["next"] = f"{API}/runs?" + urlencode(sorted(args.items()))
        return jsonify(body)

    @bp.get("/runs/<run_id>")
    def get_run(run_id):
        return jsonify(run_view(services().store, _run_or_404(run_id)))

    @bp.get("/runs/<run_id>/events")
    def run_events(run_id):
        svc = services()
        _run_or_404(run_id)
        cfg = svc.config.events
        raw = request.headers.get("Last-Event-ID", "0")   # checked in both modes
        if not SEQ.fullmatch(raw):
            raise ApiError(400, "Last-Event-ID must be an event sequence number (at most 18 "
                                f"digits), got '{raw[:40]}'")
        want_json = "after" in request.args or \
            request.accept_mimetypes.best_match(["text/event-stream", "application/json"]) \
            == "application/json"
        limit = _int_arg("limit", cfg["page_size"], 1, MAX_PAGE)   # checked in both modes
        if want_json:
            after = _int_arg("after", 0, 0, MAX_SEQ)
            items = svc.store.events_after(run_id, after, limit)
            run = svc.store.get_run(run_id)
            last = items[-1]["seq"] if items else after
            return jsonify({"events": [ev.envelope(e) for e in items], "after": after,
                            "next_after": last, "more": len(items) == limit,
                            "finished": ev.run_closed(run) and run["last_seq"] <= last})
        after = int(raw)
        stream = bounded(ev.sse(svc.store, svc.notifier, run_id, after, cfg["page_size"],
                                cfg["keepalive"]))
        return Response(stream_with_context(stream), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @bp.get("/runs/<run_id>/stdout")
    def run_stdout(run_id):
        svc = services()
        _run_or_404(run_id)
        live = request.args.get("follow") in ("1", "true", "yes")
        chunks = ev.stdout_chunks(svc.store, svc.notifier, run_id, svc.config.events["page_size"],
                                  svc.config.events["keepalive"], live)
        if not live:
            return Response("".join(chunks), mimetype="text/plain")
        return Response(stream_with_context(bounded(chunks)), mimetype="text/plain",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @bp.post("/runs/<run_id>/cancel")
    def cancel(run_id):
        svc = services()
        run, outcome = cancel_run(svc.store, run_id)
        body = run_view(svc.store, svc.store.get_run(run_id))
        body["cancel"] = outcome
        return jsonify(body), 202

    @bp.get("/status")
    def status():
        svc = services()
        now = time.time()
        stats = svc.store.queue_stats(now)
        dead_after = svc.config.worker["dead_after"]
        workers = []
        for w in svc.store.workers():
            alive = worker_alive(w, now, dead_after)
            workers.append({"id": w["id"], "host": w["host"], "pid": w["pid"], "alive": alive,
                            "started_at": iso(w["started_at"]),
                            "last_heartbeat": iso(w["heartbeat_at"]),
                            "heartbeat_age": round(now - (w["heartbeat_at"] or 0), 3),
                            "slots": w["slots"], "busy": bool(w["busy"]), "busy_slots": w["busy"],
                            "current_runs": w["runs"]})
        live = [w for w in workers if w["alive"]]
        free = sum(w["slots"] - w["busy_slots"] for w in live)
        running = sum(stats["running"].values())
        return jsonify({
            "busy": stats["depth"] > 0 or running > 0,
            "saturated": free == 0 or stats["depth"] > 0,
            "queue_depth": stats["depth"], "max_queue_depth": svc.config.queue["max_depth"],
            "oldest_queued_age": round(stats["oldest_queued_age"], 3),
            "queued": stats["queued"], "running": stats["running"],
            "workers_alive": len(live), "free_slots": free, "workers": workers,
        })

    @bp.get("/openapi.json")
    def openapi():
        return jsonify(openapi_document(services().config))

    return bp


def make_health_blueprint():
    bp = Blueprint("health", __name__)

    @bp.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    @bp.get("/readyz")
    def readyz():
        svc = services()
        problems = []
        try:
            svc.store.ping()
        except Exception as exc:  # any store failure means not ready
            problems.append(f"store unreachable: {exc}")
            return jsonify({"ready": False, "problems": problems}), 503
        now = time.time()
        alive = [w for w in svc.store.workers()
                 if worker_alive(w, now, svc.config.worker["dead_after"])]
        if not alive:
            problems.append("no live worker: start `python -m webhook worker`")
        return jsonify({"ready": not problems, "problems": problems,
                        "workers_alive": len(alive)}), (503 if problems else 200)

    @bp.get("/metrics")
    def metrics():
        return Response(render(services().metrics),
                        mimetype="text/plain; version=0.0.4; charset=utf-8")

    return bp
