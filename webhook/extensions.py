"""Optional feature modules (access control, triggers, dashboard) built on the core.

A module listed here that exists is imported before any config is parsed, so it can
``webhook.config.register_section(...)`` its keys, and its ``init_app(app)`` runs after the
core blueprints are registered.
"""

import importlib
import importlib.util

OPTIONAL_MODULES = ("webhook.http.auth", "webhook.http.hooks", "webhook.http.dashboard")


def load():
    modules = []
    for name in OPTIONAL_MODULES:
        if importlib.util.find_spec(name) is not None:
            modules.append(importlib.import_module(name))
    return modules
