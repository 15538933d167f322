"""Access control: bearer tokens with roles, checked before every request.

The config holds only each token's SHA-256 (``auth.tokens: [{name, role, sha256}]``); a
presented token is hashed and compared with ``hmac.compare_digest`` against EVERY configured
digest, so the time taken does not tell which entry (if any) was close.

Who may do what (the policy is a table, first match wins):

* ``/healthz``, ``/readyz``: open (liveness/readiness probes carry no credentials; readyz
  reveals only whether a worker is alive).
* ``/``, ``/static/...``: open (the page holds no data; it calls the API with
  the token the user types in).
* ``/hooks/...``: no bearer token; each hook verifies its own signature.
* ``/metrics``: viewer, or open with ``auth.open_metrics: true``.
* ``/api/v1/auth/tokens``: admin. Other ``/api/...`` reads: viewer; writes (POST, PUT,
  PATCH, DELETE: submit, cancel): operator.
* anything else: viewer (unknown paths never skip the check).

``auth.anonymous_role`` grants a role to requests without an Authorization header; a
request that sends a wrong token is still refused (401), never downgraded.
"""

import dataclasses
import hashlib
import hmac
import re
from typing import Optional

from flask import Blueprint, g, jsonify, request

from .. import config as config_mod
from ..config import ConfigError

ROLES = ("viewer", "operator", "admin")
RANK = {role: n for n, role in enumerate(ROLES)}
OPEN = None
HOOK = "hook"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
REALM = 'Bearer realm="skyforge"'


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


config_mod.register_section("auth", parse_section)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def find_token(presented: str, tokens) -> Optional[Token]:
    """Compare against every digest, always: no early exit on a match."""
    wanted = digest(presented).encode()
    found = None
    for token in tokens:
        if hmac.compare_digest(wanted, token.sha256.encode()):
            found = token
    return found


def required_role(method: str, path: str, settings: AuthConfig):
    """The role a request needs, ``OPEN`` or ``HOOK``."""
    if path in ("/healthz", "/readyz", "/") or path.startswith("/static/"):
        return OPEN
    if path.startswith("/hooks/"):
        return HOOK
    if path == "/metrics":
        return OPEN if settings.open_metrics else "viewer"
    if path.startswith("/api/v1/auth/tokens"):
        return "admin"
    if path.startswith("/api/") and method not in SAFE_METHODS:
        return "operator"
    return "viewer"


class Denied(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


def identify(header: Optional[str], settings: AuthConfig):
    """Return (name, role) for an Authorization header value; raise Denied(401)."""
    if not header:
        if settings.anonymous_role:
            return "anonymous", settings.anonymous_role
        hint = ("send 'Authorization: Bearer <token>'" if settings.tokens else
                "no tokens are configured: add auth.tokens (python -m webhook token "
                "--name NAME --role ROLE prints one) or set auth.anonymous_role")
        raise Denied(401, f"authentication required: {hint}")
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise Denied(401, "unsupported Authorization header: use 'Authorization: Bearer <token>'")
    token = find_token(value, settings.tokens)
    if token is None:
        raise Denied(401, "unknown or revoked token")
    return token.name, token.role


def check(method, path, header, settings: AuthConfig):
    """Return (name, role) of the caller, or None for open/hook paths; raise Denied."""
    need = required_role(method, path, settings)
    if need in (OPEN, HOOK):
        return None
    name, role = identify(header, settings)
    if RANK[role] < RANK[need]:
        raise Denied(403, f"'{name}' has role {role}; {method} {path} needs role {need} or "
                          "higher")
    return name, role


def settings_of(app_config) -> AuthConfig:
    return app_config.extra.get("auth") or AuthConfig()


def make_blueprint():
    bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")

    @bp.get("/whoami")
    def whoami():
        return jsonify({"name": g.skyforge_identity[0], "role": g.skyforge_identity[1]})

    @bp.get("/tokens")
    def tokens():
        from .state import services
        items = [{"name": t.name, "role": t.role}
                 for t in settings_of(services().config).tokens]
        return jsonify({"items": items})

    return bp


OPENAPI_PATHS = {
    "/api/v1/auth/whoami": {"get": {
        "summary": "The caller's token name and role (viewer or higher)",
        "responses": {"200": {"description": "{name, role}"}, "401": {"description": "no token"}}}},
    "/api/v1/auth/tokens": {"get": {
        "summary": "Configured token names and roles, never digests (admin)",
        "responses": {"200": {"description": "{items: [{name, role}]}"},
                      "403": {"description": "not an admin"}}}},
}


def init_app(app):
    from . import hardening
    from .openapi import register_paths
    from .state import KEY

    settings = settings_of(app.extensions[KEY].config)

    @app.before_request
    def enforce():
        try:
            identity = check(request.method, request.path,
                             request.headers.get("Authorization"), settings)
        except Denied as exc:
            resp = jsonify({"error": exc.message, "status": exc.status})
            resp.status_code = exc.status
            resp.headers["Connection"] = "close"   # its body is never read
            if exc.status == 401:
                resp.headers["WWW-Authenticate"] = REALM
            return resp
        g.skyforge_identity = identity
        return None

    app.register_blueprint(make_blueprint())
    register_paths(OPENAPI_PATHS)
    hardening.install(app)  # the service is exposed: hostile bodies get 4xx, never 500

