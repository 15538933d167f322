"""The ``/hooks/...`` endpoints: verify, parse, match a rule, submit through the same path
as the API (catalog, schema, vars policy), and answer.

Order matters: the signature is checked on the raw body before anything parses it, so an
unauthenticated sender learns nothing beyond "401".  A delivery id becomes the run's
idempotency key, so a redelivery returns the run the first delivery created.
"""

import dataclasses
import time
from typing import Any, List

import jmespath
from flask import Blueprint, current_app, jsonify, request

from ...domain.runs import run_view, submit_run
from ...errors import ApiError
from ..hardening import buffer_chunked_body
from ..state import KEY as SERVICES_KEY, services
from . import generic, github, gitlab, rules as rules_mod, settings, slack
from .signatures import hmac_digest

KEY = "skyforge.hooks"
MAX_DELIVERY_ID = 200


def hook_state():
    return current_app.extensions[KEY]


def _dedupe_key(source, module, delivery, body):
    """The run's idempotency key for a verified delivery, or None (no dedupe).

    Keyed with the hook's secret, so an API client cannot pre-claim a future delivery's key
    through the Idempotency-Key header. Where the signature covers the body but not the
    delivery id (GitHub, generic hooks), the signed message also maps to the first delivery
    that carried it: a captured delivery re-sent under a new id, or none, gets that
    delivery's run back instead of starting another."""
    if delivery is not None and (len(delivery) > MAX_DELIVERY_ID or not delivery.isprintable()):
        raise ApiError(400, f"the delivery id header must be at most {MAX_DELIVERY_ID} "
                            "printable characters")
    config = hook_state().hooks.sources[source]
    secret = config.secret
    on_body = getattr(module, "DEDUPE_ON_BODY", False)
    if delivery is None and not on_body:
        return None
    signed = getattr(module, "signed_message", lambda _s, _h, b: b)(config, request.headers, body)
    body_key = f"hook:{source}:body:{hmac_digest(secret, signed).hex()}"
    key = body_key if delivery is None else \
        f"hook:{source}:{hmac_digest(secret, delivery.encode('utf-8')).hex()}"
    if on_body:
        key = services().store.alias(body_key, key, services().config.retention["finished_runs"])
    return key


def _link(run_id):
    base = hook_state().hooks.public_url or request.host_url.rstrip("/")
    return f"{base}/#run={run_id}"


def verify_and_parse(name, module):
    """Return (delivery id or None, dedupe key or None, payload) for a delivery to the
    source ``name``."""
    state = hook_state()
    source = state.hooks.sources.get(name)
    if source is None:
        raise ApiError(404, f"no hook '{name}' is configured (add it under hooks in the config)")
    # nothing of the body is read before the sender shows its credential header
    module.presence(source, request.headers)
    buffer_chunked_body(current_app.config["MAX_CONTENT_LENGTH"])
    body = request.get_data(cache=True)   # over the limit: 413 (webhook.hardening)
    # replays are remembered in the run store: refused whichever replica got the first copy
    delivery = module.verify(source, request.headers, body, services().store, time.time())
    key = _dedupe_key(name, module, delivery, body)
    return delivery, key, module.parse(request.headers, body)


def dispatch(name, delivery, key, payload):
    """Match a rule and submit its run; return the JSON answer (status 202)."""
    doc = rules_mod.document(payload, request.headers)
    try:
        rule, run_vars = rules_mod.match(hook_state().rules, name, doc)
    except jmespath.exceptions.JMESPathError as exc:
        raise ApiError(422, f"a rule for '{name}' failed on this delivery: {exc}") from None
    if rule is None:
        return {"matched": False, "source": name, "delivery": delivery,
                "message": f"no rule for '{name}' matches this delivery"}
    svc = services()
    try:
        run, created = submit_run(svc.config, svc.store,
                                  {"playbook": rule.playbook, "vars": run_vars}, key)
    except ApiError as exc:
        if exc.status != 409:
            raise
        raise ApiError(409, f"delivery '{delivery}' already started a run with other vars or "
                            "another playbook (were the rules changed?); nothing new was "
                            "started") from None
    return {"matched": True, "source": name, "delivery": delivery, "rule": rule.name,
            "duplicate": not created, "run": run_view(svc.store, run), "link": _link(run["id"])}


def _json_hook(name, module):
    return jsonify(dispatch(name, *verify_and_parse(name, module))), 202


def make_blueprint():
    bp = Blueprint("hooks", __name__, url_prefix="/hooks")

    @bp.post("/github")
    def github_hook():
        return _json_hook("github", github)

    @bp.post("/gitlab")
    def gitlab_hook():
        return _json_hook("gitlab", gitlab)

    @bp.post("/generic/<name>")
    def generic_hook(name):
        return _json_hook(f"generic/{name}", generic)

    @bp.post("/slack")
    def slack_hook():
        # Slack shows the user only a 200 answer: once the request is verified and parsed,
        # every outcome is a 200 in Slack's format (refusals stay 4xx before that).
        delivery, key, payload = verify_and_parse("slack", slack)
        try:
            body = dispatch("slack", delivery, key, payload)
        except ApiError as exc:
            return jsonify(slack.answer(f"Could not start a run: {exc.message}")), 200
        if not body["matched"]:
            return jsonify(slack.answer("No rule matches this command; nothing was started.")), 200
        run = body["run"]
        verb = "Already started" if body["duplicate"] else "Started"
        return jsonify(slack.answer(f"{verb} `{run['playbook']}` run {run['id']}: "
                                    f"status *{run['status']}*", body["link"])), 200

    return bp


@dataclasses.dataclass
class HookState:
    hooks: settings.HooksConfig
    rules: List[Any]


def init_app(app):
    cfg = app.extensions[SERVICES_KEY].config
    hooks = cfg.extra.get("hooks") or settings.HooksConfig(public_url=None, sources={})
    rules = cfg.extra.get("rules") or []
    settings.check_rules(rules, hooks, cfg.playbooks)
    app.extensions[KEY] = HookState(
        hooks=settings.resolve_secrets(hooks), rules=rules)
    app.register_blueprint(make_blueprint())
