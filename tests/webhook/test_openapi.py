"""The served OpenAPI document is valid, and it and the service agree on what exists: every
route has its contract and every documented operation is served (both ways), and the
dashboard calls only documented operations."""

import os
import re
from types import SimpleNamespace

import pytest
from openapi_spec_validator import validate

from tests.webhook.conftest import ROOT
from tests.webhook.hook_helpers import ENV, HOOKS, bearer, start_service
from webhook import create_app
from webhook.http.auth import AuthConfig
from webhook.http.openapi import openapi_document

STATIC = os.path.join(ROOT, "webhook", "http", "dashboard", "static")
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
# api("GET", "/api/v1/runs/" + encodeURIComponent(id) + "/events") and stream("/x", ...)
CALL = re.compile(r'\b(api|stream)\(\s*(?:"([A-Z]+)",\s*)?"(/[^"]*)"'
                  r'(\s*\+\s*encodeURIComponent\([^)]*\)(?:\s*\+\s*"([^"]*)")?)?')


def operations(doc):
    return {(path, method) for path, item in doc["paths"].items() for method in item
            if method in METHODS}


def route_operations(app):
    """(OpenAPI path, method) of every Flask route; HEAD and OPTIONS are Flask's own."""
    return {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
            for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def documented(doc, method, url):
    for path, op in operations(doc):
        pattern = "^" + re.sub(r"\\{\w+\\}", "[^/]+", re.escape(path)) + "$"
        if op == method and re.match(pattern, url):
            return True
    return False


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """The API with tokens, hooks and rules configured (no worker: nothing runs here)."""
    started = []
    try:
        yield start_service(tmp_path_factory.mktemp("openapi"), workers=0, started=started)
    finally:
        for svc in started:
            svc.stop()


def test_the_served_document_is_valid_openapi_3_1(service):
    status, served, _ = service.request("GET", "/api/v1/openapi.json", headers=bearer("viewer"))
    assert status == 200
    assert served["openapi"].startswith("3.1")
    validate(served)
    validate(openapi_document())
    # the deployment's catalog and generic hooks are in it
    options = served["components"]["schemas"]["RunRequest"]["oneOf"]
    assert {o["properties"]["playbook"]["const"] for o in options} >= {"quick", "slow"}
    generic = served["paths"]["/hooks/generic/{name}"]["post"]["parameters"][0]
    assert generic["schema"]["enum"] == sorted(HOOKS["generic"])


def test_routes_and_document_agree_both_ways(service, monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    app = create_app(service.config)
    doc = openapi_document(app.extensions["skyforge"].config)
    routes, contract = route_operations(app), operations(doc)
    assert routes - contract == set(), "routes without a contract"
    assert contract - routes == set(), "documented operations the service does not serve"


# gunicorn refuses these before the application sees the request, with its own HTML page
FRONT_SERVER_CODES = {"414", "431"}


def test_every_error_answer_uses_the_shared_error_schema():
    doc = openapi_document()
    responses = doc["components"]["responses"]
    for path, method in operations(doc):
        for code, answer in doc["paths"][path][method]["responses"].items():
            if int(code) < 400 or path == "/readyz" or code in FRONT_SERVER_CODES:
                continue
            if "$ref" in answer:
                answer = responses[answer["$ref"].rsplit("/", 1)[1]]
            schema = answer["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, code)


def test_the_dashboard_calls_only_documented_operations():
    doc = openapi_document()
    with open(os.path.join(STATIC, "dashboard.js"), encoding="utf-8") as handle:
        script = handle.read()
    calls = CALL.findall(script)
    # every api(...)/stream(...) call is understood here: a new spelling fails, not slips by
    assert len(calls) == len(re.findall(r'\b(?:api|stream)\(\s*"', script)) >= 6
    for kind, method, prefix, variable, suffix in calls:
        url = prefix + ("x" + suffix if variable else "")
        method = (method or "GET").lower()
        assert documented(doc, method, url), f"{method.upper()} {url} is not in the document"
    for name in os.listdir(STATIC):
        assert documented(doc, "get", f"/static/{name}"), name
    enum = doc["paths"]["/static/{filename}"]["get"]["parameters"][0]["schema"]["enum"]
    assert sorted(enum) == sorted(os.listdir(STATIC))


def test_what_the_http_server_refuses_is_documented_on_every_operation(service):
    doc = openapi_document()
    for path, method in operations(doc):
        assert FRONT_SERVER_CODES <= set(doc["paths"][path][method]["responses"]), (path, method)
    status, _, _ = service.request("GET", "/api/v1/runs/abc/events?limit=" + "9" * 5000,
                                   headers=bearer("admin"))
    assert status == 414
    crowded = dict(bearer("admin"), **{f"X-Filler-{i}": "x" for i in range(120)})
    status, _, _ = service.request("GET", "/api/v1/runs", headers=crowded)
    assert status == 431


def test_an_undeclared_method_answers_405_with_allow(service):
    doc = openapi_document()
    for path in ("/api/v1/runs", "/api/v1/runs/abc/cancel", "/healthz", "/metrics",
                 "/hooks/github", "/dashboard/catalog"):
        status, body, headers = service.request("TRACE", path, headers=bearer("admin"))
        assert status == 405, (path, status, body)
        allowed = {m.strip().lower() for m in headers["Allow"].split(",")} - {"head", "options"}
        item = doc["paths"][path.replace("abc", "{run_id}")]
        assert allowed == set(item) & METHODS, path
        assert body == {"error": body["error"], "status": 405}


def test_what_the_deployment_opens_needs_no_token_in_the_document():
    def security(auth, path, method="get"):
        doc = openapi_document(SimpleNamespace(playbooks={}, extra={"auth": auth}))
        return doc["paths"][path][method].get("security", doc["security"])
    closed = AuthConfig()
    assert {} not in security(closed, "/metrics") + security(closed, "/api/v1/runs")
    assert {} in security(AuthConfig(open_metrics=True), "/metrics")
    viewer = AuthConfig(anonymous_role="viewer")
    assert {} in security(viewer, "/api/v1/runs") and {} in security(viewer, "/metrics")
    assert {} not in security(viewer, "/api/v1/runs", "post")
    assert {} in security(AuthConfig(anonymous_role="operator"), "/api/v1/runs", "post")
    assert {} not in security(AuthConfig(anonymous_role="operator"), "/api/v1/auth/tokens")


def test_every_operation_that_reads_the_store_documents_503():
    """A database restart or failover is a 503 with Retry-After (webhook.app)."""
    doc = openapi_document()
    store_free = {"getOpenapi", "whoami", "listTokens", "healthz", "dashboardPage",
                  "dashboardStatic", "dashboardCatalog"}
    for path, method in operations(doc):
        operation = doc["paths"][path][method]
        if operation["operationId"] not in store_free:
            assert "503" in operation["responses"], operation["operationId"]
