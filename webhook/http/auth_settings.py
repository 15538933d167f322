"""The ``auth`` config section: API tokens (name, role, SHA-256 of the token), the role of
requests without a token, and whether /metrics is open. Free of Flask: the config parser
and ``python -m webhook token`` use it without the web app."""

import dataclasses
import hashlib
import re
from typing import Optional

from ..errors import ConfigError

ROLES = ("viewer", "operator", "admin")
RANK = {role: n for n, role in enumerate(ROLES)}
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")


@dataclasses.dataclass(frozen=True)
class Token:
    name: str
    role: str
    sha256: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class AuthConfig:
    tokens: tuple = ()
    anonymous_role: Optional[str] = None
    open_metrics: bool = False


def _role(value, where):
    if value not in ROLES:
        raise ConfigError(f"{where}: role must be one of {', '.join(ROLES)}, got {value!r}")
    return value


def parse_section(raw, where, _base=None) -> AuthConfig:
    """Validate the ``auth`` section (unknown keys are errors, like the core sections)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping with tokens, anonymous_role, "
                          "open_metrics")
    known = {"tokens", "anonymous_role", "open_metrics"}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{where}: unknown key '{key}' (known: {', '.join(sorted(known))})")
    tokens_raw = raw.get("tokens") or []
    if not isinstance(tokens_raw, list):
        raise ConfigError(f"{where}.tokens: expected a list of {{name, role, sha256}}")
    tokens, names, digests = [], set(), set()
    for n, item in enumerate(tokens_raw):
        at = f"{where}.tokens[{n}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{at}: expected a mapping {{name, role, sha256}}")
        extra = sorted(set(item) - {"name", "role", "sha256"})
        if extra:
            raise ConfigError(f"{at}: unknown key '{extra[0]}' (known: name, role, sha256); "
                              "the config holds the token's SHA-256, never the token")
        name, digest = item.get("name"), item.get("sha256")
        if not isinstance(name, str) or not NAME_RE.fullmatch(name):
            raise ConfigError(f"{at}.name: a short name of letters, digits, '_.@-' is required")
        if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
            raise ConfigError(f"{at}.sha256: must be 64 hex digits (the SHA-256 of the token; "
                              "`python -m webhook token --name NAME --role ROLE` prints it)")
        if name in names:
            raise ConfigError(f"{at}.name: '{name}' is used twice")
        if digest.lower() in digests:
            raise ConfigError(f"{at}.sha256: the same token is configured twice")
        names.add(name)
        digests.add(digest.lower())
        tokens.append(Token(name=name, role=_role(item.get("role"), f"{at}.role"),
                            sha256=digest.lower()))
    anonymous = raw.get("anonymous_role")
    if anonymous is not None:
        _role(anonymous, f"{where}.anonymous_role")
    open_metrics = raw.get("open_metrics", False)
    if not isinstance(open_metrics, bool):
        raise ConfigError(f"{where}.open_metrics: expected a boolean")
    return AuthConfig(tokens=tuple(tokens), anonymous_role=anonymous, open_metrics=open_metrics)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def settings_of(app_config) -> AuthConfig:
    return app_config.extra.get("auth") or AuthConfig()
