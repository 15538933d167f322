# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The artifact store: key rules, the backend interface and `open_store(url)`.

A store keeps files under keys such as `<lab>/<run>/<name>` together with a record of
their sha256, size, content type, user metadata and the time they were stored. Backends:
`file:///path` (artifacts_file.py, the default `./.artifacts`) and `s3://bucket/prefix`
(artifacts_s3.py). Both stream: memory stays flat whatever the file size.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import os
import tempfile

from ansible_collections.skyforge.labs.plugins.module_utils.errors import LabError

try:
    from urllib.parse import urlsplit, unquote
except ImportError:  # pragma: no cover - Python 2 is not supported, sanity imports it
    from urlparse import urlsplit  # noqa: F401
    from urllib import unquote  # noqa: F401

DEFAULT_STORE = "file://./.artifacts"
DEFAULT_CONTENT_TYPE = "application/octet-stream"
CHUNK = 1024 * 1024
MAX_KEY_LENGTH = 1024


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def validate_key(key, what="key"):
    """Return `key` if it is a safe relative key, else raise LabError saying why."""
    if not isinstance(key, str) or key == "":
        raise LabError("artifact %s is empty: give a relative key such as '<lab>/<run>/<name>'" % what)
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_LENGTH:
        raise LabError("artifact %s %r is longer than %d bytes: shorten it" % (what, key[:60] + "...", MAX_KEY_LENGTH))
    if "\\" in key:
        raise LabError("artifact %s %r contains a backslash: separate segments with '/'" % (what, key))
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise LabError("artifact %s %r is not valid UTF-8: use UTF-8 text" % (what, key))
    # control characters, and the invisible ones (bidi overrides, zero-width, line separators)
    # that make a key display as another: str.isprintable() is False for all of them
    bad = [c for c in key if not c.isprintable() and c != " "]
    if bad:
        raise LabError("artifact %s %r contains the non-printing character U+%04X: use printable characters only"
                       % (what, key, ord(bad[0])))
    if key.startswith("/"):
        raise LabError("artifact %s %r is absolute: keys are relative to the store, drop the leading '/'" % (what, key))
    for segment in key.split("/"):
        if segment == "":
            raise LabError("artifact %s %r has an empty segment ('//' or a trailing '/'): remove it" % (what, key))
        if segment in (".", ".."):
            raise LabError("artifact %s %r contains a %r segment: keys may not point outside or around the store" % (what, key, segment))
        if segment != segment.strip():
            raise LabError("artifact %s %r has a segment that starts or ends with white space (%r): remove it"
                           % (what, key, segment))
    return key


def validate_prefix(prefix):
    """A listing prefix: empty (everything) or a key, optionally ending in '/'."""
    if prefix in (None, ""):
        return ""
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix, what="prefix")
    return prefix


def validate_sha256(value, what="sha256"):
    if value is None:
        return None
    text = str(value).strip().lower()
    if text.startswith("sha256:"):
        text = text[len("sha256:"):]
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise LabError("%s %r is not a sha256 hex digest (64 hex characters): copy it from artifact_store's result" % (what, value))
    return text


def validate_metadata(metadata):
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise LabError("artifact metadata must be a mapping of names to strings, got %s" % type(metadata).__name__)
    out = {}
    for name, value in metadata.items():
        if not isinstance(name, str) or not name:
            raise LabError("artifact metadata has an empty or non-string name %r: use a short string" % (name,))
        if isinstance(value, (dict, list)):
            raise LabError("artifact metadata %r is a %s: values must be scalars (strings, numbers, booleans)" % (name, type(value).__name__))
        out[name] = "" if value is None else str(value)
    return out


def copy_hashed(source, dest=None):
    """Stream source (a binary file object) in chunks, into dest when given.

    Returns (sha256 hex, size); memory stays at one chunk whatever the size.
    """
    digest = hashlib.sha256()
    size = 0
    while True:
        chunk = source.read(CHUNK)
        if not chunk:
            break
        digest.update(chunk)
        if dest is not None:
            dest.write(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def hash_file(path):
    """(sha256 hex, size) of a file, streamed."""
    try:
        with open(path, "rb") as handle:
            return copy_hashed(handle)
    except (IOError, OSError) as exc:
        raise LabError("cannot read %s: %s" % (path, exc.strerror or exc))


def check_source(src):
    if not os.path.exists(src):
        raise LabError("artifact src %s does not exist: give the path of a file to store" % src)
    if not os.path.isfile(src):
        raise LabError("artifact src %s is not a regular file: store files one by one (or tar a directory first)" % src)
    return src


def temp_beside(path):
    """An open temp file in the directory of `path` (so os.replace is atomic)."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    except (IOError, OSError) as exc:
        raise LabError("cannot write into %s: %s; check that the directory exists and is writable" % (directory, exc.strerror or exc))
    return os.fdopen(fd, "wb"), tmp


def discard(tmp):
    try:
        os.unlink(tmp)
    except OSError:
        pass


def dest_matches(dest, sha256):
    """True when `dest` already holds content with this sha256."""
    return os.path.isfile(dest) and hash_file(dest)[0] == sha256


def record(key, sha256, size, content_type, metadata, stored_at, url):
    return {
        "key": key,
        "sha256": sha256,
        "size": size,
        "content_type": content_type,
        "metadata": metadata,
        "stored_at": stored_at,
        "url": url,
    }


def metadata_json(metadata):
    return json.dumps(metadata, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


class Backend(object):
    """What a store backend does. Results are plain dicts (see `record`)."""

    url = None

    def head(self, key):
        """The record of `key`, or None when it is not stored."""
        raise NotImplementedError

    def put(self, src, key, sha256, size, content_type, metadata):
        """Store `src` under `key`; return the new record. `sha256` is None when the caller
        has not hashed the file (the backend hashes it, in the same pass if it can)."""
        raise NotImplementedError

    def update_record(self, key, current, content_type, metadata):
        """Same content, new content type/metadata: rewrite the record only."""
        raise NotImplementedError

    def get(self, key, tmp_handle):
        """Write the stored content of `key` into the open binary `tmp_handle`; return
        (sha256, size) of what was written if computed on the way, else None."""
        raise NotImplementedError

    def list(self, prefix):
        """Records of every key starting with `prefix`, sorted by key."""
        raise NotImplementedError

    def key_url(self, key):
        raise NotImplementedError


def open_store(store=None, endpoint_url=None, access_key=None, secret_key=None, region=None,
               validate_certs=True, session_token=None):
    """A Backend for a store URL (`file:///path`, `file://./rel`, `s3://bucket/prefix`)."""
    store = store or DEFAULT_STORE
    parts = urlsplit(store)
    if parts.scheme == "file":
        from ansible_collections.skyforge.labs.plugins.module_utils.artifacts_file import FileBackend
        path = unquote(parts.netloc + parts.path)
        if not path:
            raise LabError("artifact store %r has no path: use file:///abs/path or file://./relative" % store)
        return FileBackend(path)
    if parts.scheme == "s3":
        from ansible_collections.skyforge.labs.plugins.module_utils.artifacts_s3 import S3Backend
        if not parts.netloc:
            raise LabError("artifact store %r has no bucket: use s3://bucket or s3://bucket/prefix" % store)
        return S3Backend(parts.netloc, parts.path.strip("/"), endpoint_url=endpoint_url,
                         access_key=access_key, secret_key=secret_key, region=region,
                         validate_certs=validate_certs, session_token=session_token)
    raise LabError("artifact store %r has an unsupported scheme %r: use file:///path or s3://bucket/prefix"
                   % (store, parts.scheme or ""))


def store_file(backend, src, key, metadata=None, content_type=None, check_mode=False):
    """Store `src` under `key`. Same content, type and metadata again: changed False."""
    validate_key(key)
    check_source(src)
    metadata = validate_metadata(metadata)
    content_type = content_type or DEFAULT_CONTENT_TYPE
    current = backend.head(key)
    size = os.path.getsize(src)
    sha256 = None
    # Hash up front only when it can save the transfer (a record of the same size exists)
    # or must be reported without storing (check mode); else the backend hashes in one pass.
    if (current and current["size"] == size) or check_mode:
        sha256, size = hash_file(src)
    if current and current["sha256"] == sha256 and current["size"] == size:
        if current["content_type"] == content_type and current["metadata"] == metadata:
            return dict(current, changed=False)
        if check_mode:
            return dict(current, content_type=content_type, metadata=metadata, changed=True)
        return dict(backend.update_record(key, current, content_type, metadata), changed=True)
    if check_mode:
        return dict(record(key, sha256, size, content_type, metadata, None, backend.key_url(key)), changed=True)
    stored = backend.put(src, key, sha256, size, content_type, metadata)
    return dict(stored, changed=True)


def fetch_file(backend, key, dest, sha256=None, check_mode=False):
    """Fetch `key` into `dest`, verified against the stored (and the expected) sha256.

    The content lands in a temp file beside `dest` and replaces it only once verified; on
    any mismatch `dest` is left as it was.
    """
    validate_key(key)
    expected = validate_sha256(sha256)
    current = backend.head(key)
    if current is None:
        raise LabError("artifact %s is not in store %s: list the store with artifact_info to find the key"
                       % (key, backend.url))
    if not current["sha256"]:
        raise LabError("artifact %s in %s has no sha256 recorded: its upload is still running or was interrupted "
                       "(the record is written once the content is in); store it again" % (key, backend.url))
    if expected and current["sha256"] != expected:
        raise LabError("artifact %s in %s has sha256 %s, not the expected %s: the stored file differs from the "
                       "one you expect; check the key or the expected sha256" % (key, backend.url, current["sha256"], expected))
    if os.path.isdir(dest):
        raise LabError("artifact_fetch dest %s is a directory: give the full path of the file to write" % dest)
    if dest_matches(dest, current["sha256"]):
        return dict(current, dest=dest, changed=False)
    if check_mode:
        return dict(current, dest=dest, changed=True)
    handle, tmp = temp_beside(dest)
    try:
        with handle:
            computed = backend.get(key, handle)
        got, size = computed or hash_file(tmp)
        if got != current["sha256"] or size != current["size"]:
            raise LabError("artifact %s from %s is corrupt: its content has sha256 %s (%d bytes) but the store "
                           "recorded %s (%d bytes); %s was left untouched; store the file again"
                           % (key, backend.url, got, size, current["sha256"], current["size"], dest))
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        discard(tmp)
        raise
    return dict(current, dest=dest, changed=True)


def list_artifacts(backend, prefix=""):
    return backend.list(validate_prefix(prefix))


# The store options every artifact module takes (documented once in the
# skyforge.labs.artifact_store doc fragment).
STORE_ARGUMENT_SPEC = dict(
    store=dict(type="str", default="file://./.artifacts"),
    endpoint_url=dict(type="str"),
    access_key=dict(type="str", no_log=True),
    secret_key=dict(type="str", no_log=True),
    session_token=dict(type="str", no_log=True),
    region=dict(type="str"),
    validate_certs=dict(type="bool", default=True),
)


def store_from_params(params):
    return open_store(params["store"], endpoint_url=params.get("endpoint_url"),
                      access_key=params.get("access_key"), secret_key=params.get("secret_key"),
                      region=params.get("region"), validate_certs=params.get("validate_certs", True),
                      session_token=params.get("session_token"))
