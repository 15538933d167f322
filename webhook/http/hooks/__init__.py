"""Triggers: ``/hooks/github``, ``/hooks/gitlab``, ``/hooks/slack``, ``/hooks/generic/<name>``.

Loaded by ``webhook.create_app`` (see ``OPTIONAL_MODULES``); owns the ``hooks`` and ``rules``
config sections.
"""

import dataclasses
import os
from typing import Any, List

from ... import config as config_mod
from . import settings
from .replay import ReplayGuard

config_mod.register_section("hooks", settings.parse_hooks)
config_mod.register_section("rules", settings.parse_rules)

OPENAPI_PATHS = {
    f"/hooks/{name}": {"post": {
        "summary": summary,
        "responses": {"202": {"description": "{matched, run?, duplicate, link}"},
                      "401": {"description": "signature missing, wrong, stale or replayed"},
                      "413": {"description": "body too large"},
                      "415": {"description": "wrong content type"},
                      "400": {"description": "invalid body"},
                      "404": {"description": "hook or playbook not configured"},
                      "422": {"description": "vars refused (schema, reserved names, templates)"}}}}
    for name, summary in (
        ("github", "GitHub delivery (X-Hub-Signature-256, deduped on X-GitHub-Delivery)"),
        ("gitlab", "GitLab delivery (X-Gitlab-Token, deduped on X-Gitlab-Event-UUID)"),
        ("slack", "Slack slash command (v0 signature; answers 200 in Slack's format)"),
        ("generic/{name}", "HMAC-signed delivery with a configured header and algorithm"))
}


@dataclasses.dataclass
class HookState:
    hooks: settings.HooksConfig
    rules: List[Any]
    guard: ReplayGuard


def init_app(app):
    from ..openapi import register_paths
    from ..state import KEY
    from .views import KEY as HOOKS_KEY, make_blueprint

    cfg = app.extensions[KEY].config
    hooks = cfg.extra.get("hooks") or settings.HooksConfig(public_url=None, sources={})
    rules = cfg.extra.get("rules") or []
    settings.check_rules(rules, hooks, cfg.playbooks)
    app.extensions[HOOKS_KEY] = HookState(
        hooks=settings.resolve_secrets(hooks), rules=rules,
        guard=ReplayGuard(os.path.join(cfg.data_dir, "hooks.sqlite3")))
    app.register_blueprint(make_blueprint())
    register_paths(OPENAPI_PATHS)
