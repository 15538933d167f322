"""The ``hooks`` and ``rules`` config sections.

Secrets may be written as ``env:NAME``: the value is read from the environment of the API
process when the app starts (:func:`resolve_secrets`), so worker processes, which never
verify deliveries, do not need them.
"""

import dataclasses
import os
import re
from typing import Any, Dict, Optional

import jmespath

from ...errors import ConfigError

ALGORITHMS = ("sha1", "sha256", "sha512")
SOURCES = ("github", "gitlab", "slack")
GENERIC_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
HEADER_NAME = re.compile(r"[A-Za-z0-9-]{1,100}")
SECRET_KEYS = {"github": "secret", "gitlab": "token", "slack": "signing_secret"}


@dataclasses.dataclass
class Source:
    name: str                       # github, gitlab, slack, generic/<name>
    secret: str                     # "env:NAME" until resolve_secrets()
    header: Optional[str] = None    # generic: the signature header
    algorithm: str = "sha256"
    delivery_header: Optional[str] = None
    max_age: float = 300.0          # slack, generic with a timestamp: clock difference, s
    timestamp_header: Optional[str] = None   # generic: signed Unix time (HMAC of "<ts>.<body>")


@dataclasses.dataclass
class HooksConfig:
    public_url: Optional[str]
    sources: Dict[str, Source]


@dataclasses.dataclass
class Rule:
    name: str
    source: str
    when: Any
    playbook: str
    vars: Dict[str, Any]
    when_text: str = "true"


def _mapping(raw, where, known):
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping")
    for key in raw:
        if key not in known:
            raise ConfigError(f"{where}: unknown key '{key}' (known: {', '.join(sorted(known))})")
    return raw


def _secret(raw, key, where):
    value = raw.get(key)
    if not isinstance(value, str) or not value or value == "env:":
        raise ConfigError(f"{where}.{key}: required, a non-empty string or env:VARIABLE")
    return value


def _max_age(section, at):
    age = section.get("max_age", 300.0)
    if isinstance(age, bool) or not isinstance(age, (int, float)) or not 0 < age <= 900:
        raise ConfigError(f"{at}.max_age: seconds, more than 0 and at most 900")
    return float(age)


def parse_hooks(raw, where, _base=None) -> HooksConfig:
    raw = _mapping(raw, where, {"public_url", "github", "gitlab", "slack", "generic"})
    public_url = raw.get("public_url")
    if public_url is not None and (not isinstance(public_url, str)
                                   or not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", public_url)):
        raise ConfigError(f"{where}.public_url: an http(s) URL, e.g. https://skyforge.example.com")
    sources = {}
    for name in SOURCES:
        if name in raw:
            at = f"{where}.{name}"
            known = {SECRET_KEYS[name]} | ({"max_age"} if name == "slack" else set())
            section = _mapping(raw[name], at, known)
            source = Source(name=name, secret=_secret(section, SECRET_KEYS[name], at))
            source.max_age = _max_age(section, at)
            sources[name] = source
    generic = _mapping(raw.get("generic"), f"{where}.generic", set(raw.get("generic") or {}))
    for name, section in generic.items():
        at = f"{where}.generic.{name}"
        if not isinstance(name, str) or not GENERIC_NAME.fullmatch(name):
            raise ConfigError(f"{at}: the name must be letters, digits, '-' and '_'")
        section = _mapping(section, at, {"header", "algorithm", "secret", "delivery_header",
                                         "timestamp_header", "max_age"})
        header = section.get("header")
        if not isinstance(header, str) or not HEADER_NAME.fullmatch(header):
            raise ConfigError(f"{at}.header: required, an HTTP header name (e.g. X-Signature)")
        algorithm = section.get("algorithm", "sha256")
        if algorithm not in ALGORITHMS:
            raise ConfigError(f"{at}.algorithm: one of {', '.join(ALGORITHMS)}")
        delivery = section.get("delivery_header")
        if delivery is not None and (not isinstance(delivery, str)
                                     or not HEADER_NAME.fullmatch(delivery)):
            raise ConfigError(f"{at}.delivery_header: an HTTP header name")
        stamp = section.get("timestamp_header")
        if stamp is not None and (not isinstance(stamp, str) or not HEADER_NAME.fullmatch(stamp)):
            raise ConfigError(f"{at}.timestamp_header: an HTTP header name")
        if "max_age" in section and stamp is None:
            raise ConfigError(f"{at}.max_age: only with timestamp_header")
        sources[f"generic/{name}"] = Source(name=f"generic/{name}",
                                            secret=_secret(section, "secret", at), header=header,
                                            algorithm=algorithm, delivery_header=delivery,
                                            timestamp_header=stamp,
                                            max_age=_max_age(section, at))
    return HooksConfig(public_url=public_url.rstrip("/") if public_url else None, sources=sources)


def _compile(expr, where):
    if not isinstance(expr, str) or not expr.strip():
        raise ConfigError(f"{where}: a JMESPath expression (string) is required")
    try:
        return jmespath.compile(expr)
    except jmespath.exceptions.JMESPathError as exc:
        raise ConfigError(f"{where}: invalid JMESPath expression: {exc}") from None


def parse_rules(raw, where, _base=None):
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: expected a list of {{source, when, playbook, vars}}")
    rules = []
    for n, item in enumerate(raw):
        at = f"{where}[{n}]"
        item = _mapping(item, at, {"name", "source", "when", "playbook", "vars"})
        source = item.get("source")
        if not isinstance(source, str) or not (source in SOURCES or (
                source.startswith("generic/") and GENERIC_NAME.fullmatch(source[8:]))):
            raise ConfigError(f"{at}.source: one of {', '.join(SOURCES)} or generic/<name>")
        playbook = item.get("playbook")
        if not isinstance(playbook, str) or not playbook:
            raise ConfigError(f"{at}.playbook: required, the name of a catalog entry")
        when_text = item.get("when", "`true`")
        when = _compile(when_text, f"{at}.when")
        vars_raw = item.get("vars") or {}
        if not isinstance(vars_raw, dict):
            raise ConfigError(f"{at}.vars: a mapping of var name to JMESPath expression")
        exprs = {str(k): _compile(v, f"{at}.vars.{k}") for k, v in vars_raw.items()}
        name = item.get("name", f"rule{n}")
        if not isinstance(name, str):
            raise ConfigError(f"{at}.name: a string")
        rules.append(Rule(name=name, source=source, when=when, playbook=playbook, vars=exprs,
                          when_text=when_text))
    return rules


def resolve_secrets(hooks: HooksConfig, environ=os.environ) -> HooksConfig:
    """Replace ``env:NAME`` secrets with the variable's value; ConfigError if unset."""
    resolved = {}
    for name, source in hooks.sources.items():
        secret = source.secret
        if secret.startswith("env:"):
            var = secret[4:]
            secret = environ.get(var, "")
            if not secret:
                raise ConfigError(f"hooks: the secret of '{name}' is env:{var}, but {var} is "
                                  "not set (or empty) in the service's environment")
        resolved[name] = dataclasses.replace(source, secret=secret)
    return HooksConfig(public_url=hooks.public_url, sources=resolved)


def check_rules(rules, hooks: HooksConfig, playbooks) -> None:
    """Cross-section checks: a rule's source is configured and its playbook exists."""
    for n, rule in enumerate(rules):
        if rule.source not in hooks.sources:
            raise ConfigError(f"rules[{n}].source: '{rule.source}' is not configured under hooks")
        if rule.playbook not in playbooks:
            raise ConfigError(f"rules[{n}].playbook: '{rule.playbook}' is not in the catalog "
                              f"(known: {', '.join(sorted(playbooks))})")
