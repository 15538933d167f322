# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every artifact backend shares: key rules, records, streamed hashing, and the
Backend interface (file.py and s3.py implement it; store.py picks one and works with it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import os

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError

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

    def get(self, key, out):
        """Write the stored content of `key` into `out` (a common.files.AtomicFile: its
        write(), or its seekable `handle`); return (sha256, size) of what was written if
        computed on the way, else None."""
        raise NotImplementedError

    def list(self, prefix):
        """Records of every key starting with `prefix`, sorted by key."""
        raise NotImplementedError

    def key_url(self, key):
        raise NotImplementedError
