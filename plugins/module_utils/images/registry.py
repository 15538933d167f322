# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A minimal OCI distribution client: image references and manifest HEAD with auth.

Only what an availability check needs: normalise a reference the way docker does,
HEAD `/v2/<name>/manifests/<tag|digest>` with the Accept headers for OCI and Docker
manifests and indexes, answer a `WWW-Authenticate: Bearer` challenge through the token
realm (anonymously or with basic credentials), or use basic auth directly.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import re
import socket

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError

try:
    from http.client import HTTPException
    from urllib.error import HTTPError, URLError
    from urllib.parse import urlencode
    from urllib.request import Request, build_opener, HTTPRedirectHandler
except ImportError:  # pragma: no cover - Python 2 is not supported
    pass

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
MAX_MANIFEST_BYTES = 4 * 1024 * 1024

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*"
_NAME_RE = re.compile(r"^%s(?:/%s)*$" % (_COMPONENT, _COMPONENT))
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")


class Reference(object):
    """A normalised image reference: registry host, repository, tag and/or digest."""

    def __init__(self, registry, repository, tag=None, digest=None):
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest

    @property
    def api_host(self):
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def manifest_ref(self):
        return self.digest or self.tag

    def __str__(self):
        text = "%s/%s" % (self.registry, self.repository)
        if self.tag:
            text += ":" + self.tag
        if self.digest:
            text += "@" + self.digest
        return text


def parse_reference(image):
    """Normalise `image` like docker: `alpine` -> docker.io/library/alpine:latest."""
    text = (image or "").strip()
    if not text:
        raise LabError("empty image reference: give a name such as 'quay.io/frrouting/frr:10.7.1'")
    digest = None
    if "@" in text:
        text, digest = text.split("@", 1)
        if not _DIGEST_RE.match(digest):
            raise LabError("image %r has an invalid digest %r: use '<name>@sha256:<64 hex>'" % (image, digest))
    tag = None
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:
        text, tag = text[:colon], text[colon + 1:]
        if not _TAG_RE.match(tag):
            raise LabError("image %r has an invalid tag %r: tags are up to 128 letters, digits, '_', '.', '-'"
                           % (image, tag))
    first, dummy, rest = text.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = DOCKER_HUB, text
    if registry == "index.docker.io":
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in repository:
        repository = "library/" + repository
    if not _NAME_RE.match(repository):
        raise LabError("image %r has an invalid repository name %r: use lowercase letters, digits and "
                       "'.', '_', '-' separated by '/'" % (image, repository))
    if not tag and not digest:
        tag = "latest"
    return Reference(registry, repository, tag, digest)


class Outcome(object):
    """The answer for one manifest: available (with digest), missing, or an error."""

    def __init__(self, status, digest=None, error=None, http_status=None):
        self.status = status  # "available" | "missing" | "unauthorized" | "error"
        self.digest = digest
        self.error = error
        self.http_status = http_status


def parse_challenge(header):
    """('bearer'|'basic', {param: value}) from a WWW-Authenticate header."""
    if not header:
        return None, {}
    scheme, dummy, rest = header.strip().partition(" ")
    params = dict((k.lower(), v) for k, v in re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


class _NoRedirectAuth(HTTPRedirectHandler):
    """Follow redirects without carrying Authorization to another host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = HTTPRedirectHandler.redirect_request(self, req, fp, code, msg, headers, newurl)
        if new is not None and new.host != req.host:
            new.remove_header("Authorization")
        return new


class RegistryClient(object):
    """Checks manifests; `registries` maps a registry host to its auth settings."""

    def __init__(self, registries=None, timeout=10.0):
        self.registries = registries or {}
        self.timeout = timeout
        self.opener = build_opener(_NoRedirectAuth())
        self.tokens = {}

    def settings(self, registry):
        return self.registries.get(registry) or {}

    def base_url(self, ref):
        scheme = "http" if self.settings(ref.registry).get("insecure") else "https"
        return "%s://%s" % (scheme, ref.api_host)

    def basic_header(self, registry):
        conf = self.settings(registry)
        if conf.get("username") is None or conf.get("password") is None:
            return None
        raw = ("%s:%s" % (conf["username"], conf["password"])).encode("utf-8")
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def request(self, url, method="GET", headers=None):
        """(status, headers, body) for a request; body read only for GET (bounded)."""
        req = Request(url, method=method, headers=headers or {})
        try:
            response = self.opener.open(req, timeout=self.timeout)
        except HTTPError as exc:
            try:
                body = exc.read(65536)
            except Exception:
                body = b""
            return exc.code, exc.headers, body
        with response:
            body = response.read(MAX_MANIFEST_BYTES + 1) if method == "GET" else b""
            return response.status, response.headers, body

    def fetch_token(self, ref, params):
        """A bearer token from the challenge's realm (with basic credentials if configured)."""
        realm = params.get("realm")
        if not realm:
            raise _Failure("unauthorized", "the registry's bearer challenge names no realm")
        query = {"scope": params.get("scope") or "repository:%s:pull" % ref.repository}
        if params.get("service"):
            query["service"] = params["service"]
        url = realm + ("&" if "?" in realm else "?") + urlencode(sorted(query.items()))
        headers = {}
        basic = self.basic_header(ref.registry)
        if basic:
            headers["Authorization"] = basic
        status, dummy, body = self.request(url, headers=headers)
        if status in (401, 403):
            raise _Failure("unauthorized", "the token service %s refused the credentials for %s (HTTP %d)"
                           % (realm, ref.registry, status), status)
        if status != 200:
            raise _Failure("error", "the token service %s answered HTTP %d" % (realm, status), status)
        try:
            data = json.loads(body.decode("utf-8"))
            return data.get("token") or data["access_token"]
        except (ValueError, KeyError, AttributeError):
            raise _Failure("error", "the token service %s returned no token" % realm)

    def auth_header(self, ref, challenge):
        scheme, params = parse_challenge(challenge)
        conf = self.settings(ref.registry)
        if scheme == "bearer":
            if conf.get("token"):
                return "Bearer " + conf["token"]
            key = (ref.registry, params.get("realm"), params.get("service"), params.get("scope"))
            if key not in self.tokens:
                self.tokens[key] = self.fetch_token(ref, params)
            return "Bearer " + self.tokens[key]
        if scheme == "basic":
            basic = self.basic_header(ref.registry)
            if basic:
                return basic
            raise _Failure("unauthorized", "the registry %s wants a username and password" % ref.registry, 401)
        raise _Failure("unauthorized", "the registry %s asks for unsupported authentication %r"
                       % (ref.registry, challenge), 401)

    def check(self, ref):
        """An Outcome for the manifest of `ref` (HEAD; GET only when no digest header)."""
        url = "%s/v2/%s/manifests/%s" % (self.base_url(ref), ref.repository, ref.manifest_ref)
        headers = {"Accept": ", ".join(MANIFEST_TYPES)}
        conf = self.settings(ref.registry)
        if conf.get("token"):
            headers["Authorization"] = "Bearer " + conf["token"]
        try:
            status, answer, dummy = self.request(url, "HEAD", headers)
            if status == 401:
                headers["Authorization"] = self.auth_header(ref, answer.get("WWW-Authenticate"))
                status, answer, dummy = self.request(url, "HEAD", headers)
                if status == 401:
                    if self.basic_header(ref.registry) or conf.get("token"):
                        why = "rejected the credentials for %s" % ref.repository
                    else:
                        why = "refused anonymous access to %s" % ref.repository
                    return Outcome("unauthorized", error="the registry %s %s (HTTP 401)" % (ref.registry, why),
                                   http_status=401)
            if status == 200:
                digest = answer.get("Docker-Content-Digest")
                if not digest:
                    status, answer, body = self.request(url, "GET", headers)
                    if status != 200:
                        return Outcome("error", error="GET %s answered HTTP %d after HEAD 200" % (url, status),
                                       http_status=status)
                    if len(body) > MAX_MANIFEST_BYTES:
                        return Outcome("error", error="the manifest at %s is larger than 4 MiB" % url)
                    digest = "sha256:" + hashlib.sha256(body).hexdigest()
                return Outcome("available", digest=digest, http_status=200)
            if status == 404:
                return Outcome("missing", error="%s has no manifest %s:%s (HTTP 404)"
                               % (ref.registry, ref.repository, ref.manifest_ref), http_status=404)
            if status == 403:
                return Outcome("unauthorized", error="the registry %s denied access to %s (HTTP 403)"
                               % (ref.registry, ref.repository), http_status=403)
            return Outcome("error", error="the registry %s answered HTTP %d for %s" % (ref.registry, status, url),
                           http_status=status)
        except _Failure as exc:
            return Outcome(exc.status, error=exc.message, http_status=exc.http_status)
        except (socket.timeout, TimeoutError):
            return Outcome("error", error="the registry %s did not answer within %ss" % (ref.registry, self.timeout))
        except URLError as exc:
            reason = exc.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                return Outcome("error", error="the registry %s did not answer within %ss"
                               % (ref.registry, self.timeout))
            return Outcome("error", error="cannot reach the registry %s at %s: %s" % (ref.registry, url, reason))
        except (OSError, ValueError, HTTPException) as exc:
            return Outcome("error", error="cannot talk to the registry %s at %s: %s" % (ref.registry, url, exc))


class _Failure(Exception):
    def __init__(self, status, message, http_status=None):
        Exception.__init__(self, message)
        self.status = status
        self.message = message
        self.http_status = http_status
