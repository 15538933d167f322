"""Run submission and cancellation: the one entry point the API and the hooks share.

``submit_run(config, store, request, idempotency_key)`` validates a request against the
catalog and queues it; every rejection is an :class:`ApiError` carrying the HTTP status
and a message that says what is wrong and where.
"""

import hashlib
import json
import time
import uuid
from datetime import datetime, timezone

from ..errors import ApiError
from . import secret_vars, targets, vars_policy
from ..store import IdempotencyConflict, QueueFull

REQUEST_KEYS = {"playbook", "vars", "limit", "tags", "priority"}
PRIORITY_RANGE = (-100, 100)


def _json_path(path):
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def normalise_request(config, request):
    """Check the shape of a submission and return (entry, cleaned request)."""
    if not isinstance(request, dict):
        raise ApiError(400, "the request body must be a JSON object")
    unknown = sorted(set(request) - REQUEST_KEYS)
    if unknown:
        raise ApiError(422, f"unknown field(s) {', '.join(unknown)}; "
                            f"allowed: {', '.join(sorted(REQUEST_KEYS))}")
    name = request.get("playbook")
    if not isinstance(name, str) or not name:
        raise ApiError(422, "'playbook' is required: the name of a catalog entry",
                       path="$.playbook")
    entry = config.playbooks.get(name)
    if entry is None:
        raise ApiError(404, f"unknown playbook '{name}'; the catalog has: "
                            f"{', '.join(sorted(config.playbooks)) or 'nothing'}")
    run_vars = request.get("vars", {})
    if not isinstance(run_vars, dict):
        raise ApiError(422, "'vars' must be a JSON object", path="$.vars")
    vars_policy.check(entry.schema, request)  # reserved names, template syntax: 422
    errors = sorted(entry.validator.iter_errors(run_vars), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        path = _json_path(["vars"] + list(err.absolute_path))
        raise ApiError(422, f"vars do not match the schema of '{name}' at {path}: {err.message}",
                       path=path, errors=[{"path": _json_path(["vars"] + list(e.absolute_path)),
                                           "message": e.message} for e in errors[:20]])
    limit = request.get("limit")
    if limit is not None:
        try:
            targets.check_limit(limit)
        except ValueError as exc:
            raise ApiError(422, str(exc), path="$.limit") from None
    tags = request.get("tags")
    if tags is not None:
        try:
            tags = targets.check_tags(tags)
        except ValueError as exc:
            raise ApiError(422, str(exc), path="$.tags") from None
    priority = request.get("priority", config.queue["default_priority"])
    if isinstance(priority, float) and priority.is_integer():
        priority = int(priority)   # JSON has one number type: 5.0 is the integer 5
    if isinstance(priority, bool) or not isinstance(priority, int) \
            or not PRIORITY_RANGE[0] <= priority <= PRIORITY_RANGE[1]:
        raise ApiError(422, f"'priority' must be an integer from {PRIORITY_RANGE[0]} to "
                            f"{PRIORITY_RANGE[1]}", path="$.priority")
    clean = {"playbook": name, "vars": run_vars, "limit": limit, "tags": tags or None,
             "priority": priority}
    return entry, clean


def lock_key(entry, request):
    if entry.lock_expr is None:
        return None
    value = entry.lock_expr.search(request)
    if value is None or value == "" or value == []:
        return None
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def submit_run(config, store, request, idempotency_key=None):
    """Validate and queue a run; return (run, created). Raises ApiError.

    Secret vars are stored apart: the run, its lock key and its idempotency hash only ever
    see them masked (a repeated Idempotency-Key with another secret value returns the
    first run)."""
    try:
        entry, clean = normalise_request(config, request)
        shown, secrets = secret_vars.split(entry.schema, clean["vars"])
    except ValueError as exc:
        store.count_rejected("invalid")
        raise ApiError(422, str(exc), path=str(exc).split(":", 1)[0]) from None
    except ApiError as exc:
        store.count_rejected("not_found" if exc.status == 404 else "invalid")
        raise
    clean = dict(clean, vars=shown)
    now = time.time()
    ttl = config.queue["ttl"]
    run = dict(clean, id=uuid.uuid4().hex, lock_key=lock_key(entry, clean), created_at=now,
               expires_at=now + ttl if ttl else None, timeout=entry.timeout)
    request_hash = hashlib.sha256(json.dumps(clean, sort_keys=True).encode()).hexdigest()
    try:
        return store.submit(run, idempotency_key, request_hash, config.queue["max_depth"],
                            secrets=secrets or None)
    except QueueFull as exc:
        raise ApiError(429, f"{exc}; retry later", headers={
            "Retry-After": str(config.queue["retry_after"])}) from None
    except IdempotencyConflict:
        raise ApiError(409, "this Idempotency-Key was already used for a different request; "
                            "use a new key") from None


def cancel_run(store, run_id):
    """Persist a cancel request. Returns the run; 404/409 as ApiError."""
    run, outcome = store.request_cancel(run_id)
    if outcome is None:
        raise ApiError(404, f"no run '{run_id}'")
    if outcome == "finished":
        raise ApiError(409, f"run '{run_id}' already finished with status '{run['status']}'; "
                            "nothing to cancel")
    return run, outcome


def iso(ts):
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds")


def run_view(store, run, base="/api/v1", detail=True):
    """The public JSON shape of a run."""
    view = {
        "id": run["id"], "playbook": run["playbook"], "status": run["status"],
        "vars": run["vars"], "limit": run["limit"], "tags": run["tags"],
        "priority": run["priority"], "lock_key": run["lock_key"], "rc": run["rc"],
        "created_at": iso(run["created_at"]), "claimed_at": iso(run["claimed_at"]),
        "started_at": iso(run["started_at"]), "finished_at": iso(run["finished_at"]),
        "expires_at": iso(run["expires_at"]) if run["status"] == "queued" else None,
        "cancel_requested_at": iso(run["cancel_requested_at"]),
        "cleanup_running": run["cleaning"], "worker": run["worker_id"],
        "reason": run["result"].get("reason"), "timeout": run["timeout"],
        "links": {
            "self": f"{base}/runs/{run['id']}",
            "events": f"{base}/runs/{run['id']}/events",
            "stdout": f"{base}/runs/{run['id']}/stdout",
            "cancel": f"{base}/runs/{run['id']}/cancel",
        },
    }
    if detail:
        view["queue_position"] = store.queue_position(run["id"]) \
            if run["status"] == "queued" else None
        view["event_counts"] = store.event_counts(run["id"])
    return view
