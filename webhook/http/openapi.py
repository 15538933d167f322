"""The OpenAPI 3.1 document served at /api/v1/openapi.json (tests check it covers every route)."""

RUN_ID = {"name": "run_id", "in": "path", "required": True, "schema": {"type": "string"}}
ERROR = {"description": "error", "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/Error"}}}}


def _json(ref, description="ok"):
    return {"description": description, "content": {"application/json": {"schema": {
        "$ref": f"#/components/schemas/{ref}"}}}}


STATUS = ["queued", "running", "successful", "failed", "canceled", "error"]

SCHEMAS = {
    "Error": {"type": "object", "required": ["error", "status"], "properties": {
        "error": {"type": "string"}, "status": {"type": "integer"},
        "path": {"type": "string", "description": "JSON path of the failing field"}}},
    "RunRequest": {"type": "object", "required": ["playbook"], "additionalProperties": False,
                   "properties": {
                       "playbook": {"type": "string", "description": "catalog entry name"},
                       "vars": {"type": "object", "description": "validated by the entry's schema"},
                       "limit": {"type": "string"},
                       "tags": {"oneOf": [{"type": "array", "items": {"type": "string"}},
                                          {"type": "string"}]},
                       "priority": {"type": "integer", "minimum": -100, "maximum": 100}}},
    "Run": {"type": "object", "properties": {
        "id": {"type": "string"}, "playbook": {"type": "string"},
        "status": {"type": "string", "enum": STATUS}, "vars": {"type": "object"},
        "limit": {"type": ["string", "null"]}, "tags": {"type": ["array", "null"]},
        "priority": {"type": "integer"}, "lock_key": {"type": ["string", "null"]},
        "rc": {"type": ["integer", "null"]}, "created_at": {"type": "string"},
        "claimed_at": {"type": ["string", "null"]}, "started_at": {"type": ["string", "null"]},
        "finished_at": {"type": ["string", "null"]}, "expires_at": {"type": ["string", "null"]},
        "cancel_requested_at": {"type": ["string", "null"]},
        "cleanup_running": {"type": "boolean"}, "worker": {"type": ["string", "null"]},
        "reason": {"type": ["string", "null"]}, "timeout": {"type": ["number", "null"]},
        "queue_position": {"type": ["integer", "null"]},
        "event_counts": {"type": "object"}, "links": {"type": "object"}}},
    "RunList": {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Run"}},
        "total": {"type": "integer"}, "limit": {"type": "integer"},
        "offset": {"type": "integer"}, "next": {"type": ["string", "null"]}}},
    "Event": {"type": "object", "properties": {
        "seq": {"type": "integer"}, "type": {"type": "string"}, "ts": {"type": "number"},
        "data": {"type": "object"}}},
    "EventPage": {"type": "object", "properties": {
        "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
        "after": {"type": "integer"}, "next_after": {"type": "integer"},
        "more": {"type": "boolean"}, "finished": {"type": "boolean"}}},
    "Status": {"type": "object", "properties": {
        "busy": {"type": "boolean"}, "saturated": {"type": "boolean"},
        "queue_depth": {"type": "integer"}, "oldest_queued_age": {"type": "number"},
        "workers_alive": {"type": "integer"}, "free_slots": {"type": "integer"},
        "workers": {"type": "array", "items": {"type": "object"}}}},
}

PATHS = {
    "/api/v1/runs": {
        "post": {"summary": "Queue a run of a catalog playbook",
                 "parameters": [{"name": "Idempotency-Key", "in": "header",
                                 "schema": {"type": "string", "maxLength": 255}}],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"$ref": "#/components/schemas/RunRequest"}}}},
                 "responses": {"202": _json("Run", "queued (or the run of a repeated key)"),
                               "400": ERROR, "404": ERROR, "409": ERROR, "413": ERROR,
                               "415": ERROR, "422": ERROR,
                               "429": dict(ERROR, headers={"Retry-After": {
                                   "schema": {"type": "integer"}}})}},
        "get": {"summary": "List runs, newest first",
                "parameters": [{"name": "status", "in": "query",
                                "schema": {"type": "string", "enum": STATUS}},
                               {"name": "playbook", "in": "query", "schema": {"type": "string"}},
                               {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                               {"name": "offset", "in": "query", "schema": {"type": "integer"}}],
                "responses": {"200": _json("RunList"), "400": ERROR}},
    },
    "/api/v1/runs/{run_id}": {
        "get": {"summary": "One run", "parameters": [RUN_ID],
                "responses": {"200": _json("Run"), "404": ERROR}}},
    "/api/v1/runs/{run_id}/events": {
        "get": {"summary": "Events: Server-Sent Events, or a JSON page with ?after=N",
                "parameters": [RUN_ID,
                               {"name": "after", "in": "query", "schema": {"type": "integer"}},
                               {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                               {"name": "Last-Event-ID", "in": "header",
                                "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "events", "content": {
                    "text/event-stream": {"schema": {"type": "string"}},
                    "application/json": {"schema": {"$ref": "#/components/schemas/EventPage"}}}},
                    "404": ERROR}}},
    "/api/v1/runs/{run_id}/stdout": {
        "get": {"summary": "Plain-text output; ?follow=1 streams it",
                "parameters": [RUN_ID, {"name": "follow", "in": "query",
                                        "schema": {"type": "string"}}],
                "responses": {"200": {"description": "text", "content": {
                    "text/plain": {"schema": {"type": "string"}}}}, "404": ERROR}}},
    "/api/v1/runs/{run_id}/cancel": {
        "post": {"summary": "Cancel a run (idempotent)", "parameters": [RUN_ID],
                 "responses": {"202": _json("Run"), "404": ERROR, "409": ERROR}}},
    "/api/v1/status": {
        "get": {"summary": "Workers, queue depth and the busy signal",
                "responses": {"200": _json("Status")}}},
    "/api/v1/openapi.json": {
        "get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI"}}}},
    "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {"description": "ok"}}}},
    "/readyz": {"get": {"summary": "Store reachable and a live worker",
                        "responses": {"200": {"description": "ready"},
                                      "503": {"description": "not ready"}}}},
    "/metrics": {"get": {"summary": "Prometheus metrics",
                         "responses": {"200": {"description": "text exposition format"}}}},
}

_EXTRA_PATHS = {}


def register_paths(paths):
    """Blueprints added later (hooks, dashboard) document their routes here."""
    _EXTRA_PATHS.update(paths)


def openapi_document():
    return {
        "openapi": "3.1.0",
        "info": {"title": "skyforge.labs webhook", "version": "0.1.0"},
        "paths": dict(PATHS, **_EXTRA_PATHS),
        "components": {"schemas": SCHEMAS},
    }
