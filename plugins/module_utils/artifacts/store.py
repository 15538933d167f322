# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The artifact store the modules use: open_store(url) and store / fetch / list.

A store keeps files under keys such as `<lab>/<run>/<name>` together with a record of
their sha256, size, content type, user metadata and the time they were stored. Backends:
`file:///path` (file.py, the default `./.artifacts`) and `s3://bucket/prefix` (s3.py).
Both stream: memory stays flat whatever the file size.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.skyforge.labs.plugins.module_utils.artifacts.base import (
    DEFAULT_CONTENT_TYPE, check_source, dest_matches, hash_file, record, validate_key,
    validate_metadata, validate_prefix, validate_sha256)
from ansible_collections.skyforge.labs.plugins.module_utils.artifacts.file import FileBackend
from ansible_collections.skyforge.labs.plugins.module_utils.artifacts.s3 import S3Backend
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.common.files import AtomicFile

try:
    from urllib.parse import urlsplit, unquote
except ImportError:  # pragma: no cover - Python 2 is not supported, sanity imports it
    from urlparse import urlsplit  # noqa: F401
    from urllib import unquote  # noqa: F401

DEFAULT_STORE = "file://./.artifacts"


def open_store(store=None, endpoint_url=None, access_key=None, secret_key=None, region=None,
               validate_certs=True, session_token=None):
    """A Backend for a store URL (`file:///path`, `file://./rel`, `s3://bucket/prefix`)."""
    store = store or DEFAULT_STORE
    parts = urlsplit(store)
    if parts.scheme == "file":
        path = unquote(parts.netloc + parts.path)
        if not path:
            raise LabError("artifact store %r has no path: use file:///abs/path or file://./relative" % store)
        return FileBackend(path)
    if parts.scheme == "s3":
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
    with AtomicFile(dest) as out:
        computed = backend.get(key, out)
        if computed is None:
            out.handle.flush()
            computed = hash_file(out.tmp)
        got, size = computed
        if got != current["sha256"] or size != current["size"]:
            raise LabError("artifact %s from %s is corrupt: its content has sha256 %s (%d bytes) but the store "
                           "recorded %s (%d bytes); %s was left untouched; store the file again"
                           % (key, backend.url, got, size, current["sha256"], current["size"], dest))
    return dict(current, dest=dest, changed=True)


def list_artifacts(backend, prefix=""):
    return backend.list(validate_prefix(prefix))


# The store options every artifact module takes (documented once in the
# skyforge.labs.artifact_store doc fragment).
STORE_ARGUMENT_SPEC = dict(
    store=dict(type="str", default=DEFAULT_STORE),
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
