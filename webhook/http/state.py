"""Per-app services (config, store, notifier, metrics registry) kept on the Flask app."""

import dataclasses
from typing import Any

from flask import current_app

KEY = "skyforge"


@dataclasses.dataclass
class Services:
    config: Any
    store: Any
    notifier: Any
    metrics: Any
    streams: Any = None


def services() -> Services:
    return current_app.extensions[KEY]
