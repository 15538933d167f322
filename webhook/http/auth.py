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

import hmac
from typing import Optional

from flask import Blueprint, g, jsonify, request

from .auth_settings import RANK, AuthConfig, Token, digest, settings_of
from .state import KEY, services

OPEN = None
HOOK = "hook"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
REALM = 'Bearer realm="skyforge"'


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


def make_blueprint():
    bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")

    @bp.get("/whoami")
    def whoami():
        return jsonify({"name": g.skyforge_identity[0], "role": g.skyforge_identity[1]})

    @bp.get("/tokens")
    def tokens():
        items = [{"name": t.name, "role": t.role}
                 for t in settings_of(services().config).tokens]
        return jsonify({"items": items})

    return bp


def init_app(app):
    """The token check runs before every request (create_app installs it first)."""
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

