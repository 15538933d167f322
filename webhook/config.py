"""Service configuration: a YAML file named by SKYFORGE_CONFIG, validated strictly.

Every section is described by a small schema (key -> (type, default)); unknown keys are
errors that name the key and the file.  The sections of the optional features (``auth``,
``hooks``, ``rules``) are parsed by their own modules, listed in ``EXTRA_SECTIONS``.
"""

import dataclasses
import os
import re
import socket
from typing import Any, Callable, Dict

import jmespath
import jsonschema
import yaml

from .domain.run_env import DEFAULT_PASS_ENV
from .domain.schema_regex import anchored_schema
from .errors import ConfigError
from .http import auth_settings
from .http.hooks import settings as hook_settings

CONFIG_ENV = "SKYFORGE_CONFIG"
STORE_URL_ENV = "SKYFORGE_STORE_URL"
CATALOG_NAME = re.compile(r"[A-Za-z0-9_-]+")
BIND_ENV = "SKYFORGE_BIND"


_NUM = (int, float)

# section -> {key: (accepted types, default)}
SECTIONS: Dict[str, Dict[str, tuple]] = {
    "server": {
        "bind": (str, "127.0.0.1:8080"),
        "workers": (int, 2),
        "threads": (int, 32),
        "max_body_bytes": (int, 1024 * 1024),
        "connections": (int, 4000),
        "request_timeout": (_NUM, 10.0),
        "max_streams": (int, 1000),
        "max_streams_per_token": (int, 200),
    },
    "queue": {
        "max_depth": (int, 1000),
        "retry_after": (int, 5),
        "ttl": (_NUM, 3600),
        "default_priority": (int, 0),
    },
    "worker": {
        "id": ((str, type(None)), None),
        "slots": (int, 2),
        "heartbeat_interval": (_NUM, 2.0),
        "dead_after": (_NUM, 10.0),
        "reconcile_interval": (_NUM, 2.0),
        "poll_interval": (_NUM, 0.01),
    },
    "cancel": {
        "sigint_grace": (_NUM, 1.0),
        "sigterm_grace": (_NUM, 0.5),
        "cleanup_retries": (int, 3),
        "cleanup_backoff": (_NUM, 2.0),
        "cleanup_timeout": (_NUM, 600),
    },
    "retention": {
        "finished_runs": (_NUM, 14 * 86400),
        "interval": (_NUM, 300),
    },
    "executor": {
        "type": (str, "ansible-runner"),
        "env": (dict, {}),
        "secret_env": (list, ["*SECRET*", "*TOKEN*", "*PASSWORD*", "*PASSWD*", "*_KEY",
                               "*CREDENTIAL*", "*PRIVATE*"]),
        "kill_leftovers": (bool, True),
        "pass_env": (list, DEFAULT_PASS_ENV),
    },
    "store": {
        # sqlite:///PATH (default: webhook.sqlite3 in data_dir) or
        # postgresql://USER[:PASSWORD|:env:NAME]@HOST[:PORT]/DB; $SKYFORGE_STORE_URL wins
        "url": ((str, type(None)), None),
        "pool_size": (int, 10),
    },
    "events": {
        "keepalive": (_NUM, 15.0),
        "page_size": (int, 500),
        "poll_interval": (_NUM, 0.01),
    },
}

PLAYBOOK_KEYS = {
    "playbook": (str, None),
    "inventory": ((str, type(None)), None),
    "cwd": ((str, type(None)), None),
    "schema": (dict, {"type": "object"}),
    "lock": ((str, type(None)), None),
    "timeout": (_NUM, 3600),
    "on_cancel": ((str, type(None)), None),
    "env": (dict, {}),
    "description": (str, ""),
    # var -> {name: file}: the client picks a file by name, never gives a path
    "files": (dict, {}),
}

TOP_LEVEL = {"data_dir", "playbooks"} | set(SECTIONS)

# the sections of the optional features, parsed into ``Config.extra``:
# name -> parser(value, where: str, config_dir: str) -> parsed value
EXTRA_SECTIONS: Dict[str, Callable[[Any, str, str], Any]] = {
    "auth": auth_settings.parse_section,
    "hooks": hook_settings.parse_hooks,
    "rules": hook_settings.parse_rules,
}


@dataclasses.dataclass
class PlaybookEntry:
    name: str
    playbook: str
    inventory: Any
    cwd: Any
    schema: dict
    lock: Any
    timeout: float
    on_cancel: Any
    env: dict
    description: str
    files: dict = dataclasses.field(default_factory=dict)
    validator: Any = dataclasses.field(repr=False, default=None)
    lock_expr: Any = dataclasses.field(repr=False, default=None)


@dataclasses.dataclass
class Config:
    path: str
    data_dir: str
    server: dict
    queue: dict
    worker: dict
    cancel: dict
    retention: dict
    executor: dict
    events: dict
    store: dict
    playbooks: Dict[str, PlaybookEntry]
    extra: Dict[str, Any]

    @property
    def db_path(self) -> str:
        return os.path.join(self.data_dir, "webhook.sqlite3")

    @property
    def store_url(self):
        """The parsed store URL: $SKYFORGE_STORE_URL, else store.url, else SQLite in data_dir."""
        from .store import url as store_url
        env = os.environ.get(STORE_URL_ENV)
        if env:
            return _store_url(env, os.getcwd(), f"${STORE_URL_ENV}")
        if self.store["url"]:
            return _store_url(self.store["url"], os.path.dirname(self.path),
                              f"{self.path}: store.url")
        return store_url.StoreUrl("sqlite", path=self.db_path)

    @property
    def runs_dir(self) -> str:
        return os.path.join(self.data_dir, "runs")

    @property
    def bind(self) -> str:
        return os.environ.get(BIND_ENV) or self.server["bind"]

    def worker_id(self) -> str:
        return self.worker["id"] or f"{socket.gethostname()}:{os.getpid()}"


def _type_name(types) -> str:
    types = types if isinstance(types, tuple) else (types,)
    names = {int: "integer", float: "number", str: "string", dict: "mapping", list: "list",
             bool: "boolean", type(None): "null"}
    return " or ".join(names.get(t, t.__name__) for t in types)


def _check(value, types, where):
    # bool is an int subclass: refuse True where a number is expected
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise ConfigError(f"{where}: expected {_type_name(types)}, got a boolean")
    if not isinstance(value, types):
        raise ConfigError(f"{where}: expected {_type_name(types)}, got {type(value).__name__}")


def _section(raw, schema, where):
    if raw is None:
        raw = {}
    _check(raw, dict, where)
    for key in raw:
        if key not in schema:
            raise ConfigError(f"{where}: unknown key '{key}' (known: {', '.join(sorted(schema))})")
    out = {}
    for key, (types, default) in schema.items():
        if key in raw:
            _check(raw[key], types, f"{where}.{key}")
            out[key] = raw[key]
        else:
            out[key] = default.copy() if isinstance(default, (dict, list)) else default
    return out


def _store_url(value, base, where):
    from .store import url as store_url
    try:
        return store_url.parse(value, base)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _resolve(path, base):
    return os.path.normpath(os.path.join(base, os.path.expanduser(path)))


def _files(files, schema, where, base):
    """Resolve ``files`` (var -> {name: file}) against the config's directory and make each
    such var a string limited to its names in (a copy of) ``schema``, so a request naming
    anything else gets 422 listing the names."""
    resolved, props = {}, dict(schema.get("properties") or {})
    for var, table in files.items():
        if not isinstance(table, dict) or not table:
            raise ConfigError(f"{where}.files.{var}: a mapping of names to files")
        resolved[var] = {}
        for name, path in table.items():
            if not isinstance(path, str) or not os.path.isfile(_resolve(path, base)):
                raise ConfigError(f"{where}.files.{var}.{name}: no file '{path}' (relative "
                                  "to the config file's directory)")
            resolved[var][str(name)] = _resolve(path, base)
        described = {k: v for k, v in (props.get(var) or {}).items() if k == "description"}
        props[var] = dict(described, type="string", enum=sorted(resolved[var]))
    return resolved, (dict(schema, properties=props) if files else schema)


def _playbook(name, raw, where, base):
    entry = _section(raw, PLAYBOOK_KEYS, where)
    if not entry["playbook"]:
        raise ConfigError(f"{where}: 'playbook' is required (path to the playbook file)")
    entry["playbook"] = _resolve(entry["playbook"], base)
    for key in ("inventory", "cwd"):
        if entry[key]:
            entry[key] = _resolve(entry[key], base)
    if entry["timeout"] <= 0:
        raise ConfigError(f"{where}.timeout: must be > 0 seconds")
    entry["files"], entry["schema"] = _files(entry["files"], entry["schema"], where, base)
    try:
        jsonschema.Draft202012Validator.check_schema(entry["schema"])
    except jsonschema.SchemaError as exc:
        raise ConfigError(f"{where}.schema: not a valid JSON schema: {exc.message}") from None
    validator = jsonschema.Draft202012Validator(anchored_schema(entry["schema"]))
    lock_expr = None
    if entry["lock"]:
        try:
            lock_expr = jmespath.compile(entry["lock"])
        except jmespath.exceptions.JMESPathError as exc:
            raise ConfigError(f"{where}.lock: invalid JMESPath expression: {exc}") from None
    for key, value in entry["env"].items():
        if not isinstance(value, str):
            raise ConfigError(f"{where}.env.{key}: environment values must be strings "
                              "(quote numbers and booleans)")
    return PlaybookEntry(name=name, validator=validator, lock_expr=lock_expr, **entry)


def parse(raw: Any, path: str) -> Config:
    """Validate a parsed YAML document; ``path`` is used for messages and relative paths."""
    where = path
    base = os.path.dirname(os.path.abspath(path))
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: the top level must be a mapping")
    for key in raw:
        if key not in TOP_LEVEL and key not in EXTRA_SECTIONS:
            known = sorted(TOP_LEVEL | set(EXTRA_SECTIONS))
            raise ConfigError(f"{where}: unknown key '{key}' (known: {', '.join(known)})")
    sections = {name: _section(raw.get(name), schema, f"{where}: {name}")
                for name, schema in SECTIONS.items()}
    data_dir = raw.get("data_dir", "data")
    _check(data_dir, str, f"{where}: data_dir")
    playbooks_raw = raw.get("playbooks") or {}
    _check(playbooks_raw, dict, f"{where}: playbooks")
    playbooks = {}
    for name, entry in playbooks_raw.items():
        if not isinstance(name, str) or not CATALOG_NAME.fullmatch(name):
            raise ConfigError(f"{where}: playbooks: name '{name}' must use letters, digits, - and _")
        playbooks[name] = _playbook(name, entry, f"{where}: playbooks.{name}", base)
    for name, entry in playbooks.items():
        if entry.on_cancel and entry.on_cancel not in playbooks:
            raise ConfigError(f"{where}: playbooks.{name}.on_cancel: '{entry.on_cancel}' is not "
                              f"a catalog entry (known: {', '.join(sorted(playbooks))})")
    sections["executor"]["secret_env"] = [str(p) for p in sections["executor"]["secret_env"]]
    sections["executor"]["pass_env"] = [str(p) for p in sections["executor"]["pass_env"]]
    for key, value in sections["executor"]["env"].items():
        if not isinstance(value, str):
            raise ConfigError(f"{where}: executor.env.{key}: environment values must be strings "
                              "(quote numbers and booleans)")
    if sections["store"]["url"]:
        _store_url(sections["store"]["url"], base, f"{where}: store.url")
    if sections["store"]["pool_size"] < 1:
        raise ConfigError(f"{where}: store.pool_size: must be at least 1")
    if sections["worker"]["slots"] < 1:
        raise ConfigError(f"{where}: worker.slots: must be at least 1")
    extra = {name: parser(raw[name], f"{where}: {name}", base)
             for name, parser in EXTRA_SECTIONS.items() if name in raw}
    return Config(path=os.path.abspath(path), data_dir=_resolve(data_dir, base),
                  playbooks=playbooks, extra=extra, **sections)


def load(path: str = None) -> Config:
    """Load the file named by ``path`` or by $SKYFORGE_CONFIG."""
    path = path or os.environ.get(CONFIG_ENV)
    if not path:
        raise ConfigError(f"no configuration: set {CONFIG_ENV} to the path of a YAML config file")
    try:
        with open(path, "rb") as handle:
            raw = yaml.safe_load(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    return parse(raw, path)
