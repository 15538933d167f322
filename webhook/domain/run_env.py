"""The environment a run gets: what the catalog and ``executor`` config give it, nothing
else of the service's own environment.

From the worker's environment only the names matching ``BASE`` (what any process needs:
PATH, HOME, locale, time zone, temp dir, user) and ``executor.pass_env`` (globs, default
proxies and CA bundles) are passed on; then ``executor.env`` and the entry's ``env`` are
added. Variables that hold the hooks' secrets (``env:NAME`` in the ``hooks`` section), the
store's password (``env:NAME`` in ``store.url``) and the service's own ``SKYFORGE_*``
settings are never passed, whatever the globs say.
"""

import fnmatch
import os

BASE = ("PATH", "HOME", "LANG", "LANGUAGE", "LC_*", "TZ", "TMPDIR", "USER", "LOGNAME", "SHELL")
DEFAULT_PASS_ENV = ["http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                    "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"]


def hook_secret_names(config):
    """Names of the environment variables the hooks read their secrets from."""
    hooks = config.extra.get("hooks")
    sources = getattr(hooks, "sources", {}) or {}
    return {s.secret[4:] for s in sources.values()
            if isinstance(getattr(s, "secret", None), str) and s.secret.startswith("env:")}


def store_secret_names(config):
    """The environment variable the store's password is read from, if any."""
    password = config.store_url.password or ""
    return {password[4:]} if password.startswith("env:") else set()


def without_hook_secrets(config, environ):
    hidden = hook_secret_names(config)
    return {k: v for k, v in environ.items() if k not in hidden}


def run_environment(config, entry, environ=None):
    environ = os.environ if environ is None else environ
    patterns = list(BASE) + list(config.executor["pass_env"])
    hidden = hook_secret_names(config) | store_secret_names(config)
    env = {k: v for k, v in environ.items()
           if k not in hidden and not k.startswith("SKYFORGE_")
           and any(fnmatch.fnmatchcase(k, p) for p in patterns)}
    env.update(config.executor["env"])
    env.update(entry.env)
    return env
