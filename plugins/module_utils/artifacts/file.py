# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The `file://` artifact backend.

Layout under the store directory: `objects/<key>` holds the content and
`records/<key>.json` the sidecar record (sha256, size, content_type, metadata,
stored_at). Both are written whole-or-nothing (common.files), content first: a record
never describes content that is not fully written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.common.files import AtomicFile
from ansible_collections.skyforge.labs.plugins.module_utils.artifacts.base import (
    Backend, copy_hashed, record, utc_now,
)

RECORD_SUFFIX = ".json"


class FileBackend(Backend):

    def __init__(self, path):
        self.root = os.path.abspath(os.path.expanduser(path))
        self.url = "file://" + self.root
        self.objects = os.path.join(self.root, "objects")
        self.records = os.path.join(self.root, "records")

    def key_url(self, key):
        return "file://" + self.object_path(key)

    def object_path(self, key):
        return os.path.join(self.objects, *key.split("/"))

    def record_path(self, key):
        return os.path.join(self.records, *key.split("/")) + RECORD_SUFFIX

    def makedirs(self, path, key):
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        except (IOError, OSError) as exc:
            if exc.errno in (errno.ENOTDIR, errno.EEXIST):
                raise LabError("artifact key %s clashes with an existing key in %s: a key cannot be both a file "
                               "and a prefix of another key; choose another key" % (key, self.url))
            raise LabError("cannot create %s for artifact %s: %s; check the store path and its permissions"
                           % (os.path.dirname(path), key, exc.strerror or exc))

    def head(self, key):
        path = self.record_path(key)
        try:
            with open(path, "rb") as handle:
                data = json.loads(handle.read().decode("utf-8"))
        except (IOError, OSError) as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise LabError("cannot read the record of %s at %s: %s" % (key, path, exc.strerror or exc))
        except ValueError as exc:
            raise LabError("the record of artifact %s at %s is not valid JSON (%s): store the file again" % (key, path, exc))
        if not os.path.isfile(self.object_path(key)):
            raise LabError("artifact %s has a record in %s but no content at %s: store the file again"
                           % (key, self.url, self.object_path(key)))
        return record(key, data.get("sha256"), data.get("size"), data.get("content_type"),
                      data.get("metadata") or {}, data.get("stored_at"), self.key_url(key))

    def write_record(self, key, data):
        path = self.record_path(key)
        self.makedirs(path, key)
        with AtomicFile(path) as out:
            out.write(json.dumps(data, sort_keys=True, indent=2).encode("utf-8") + b"\n")

    def _record_data(self, rec):
        return {k: rec[k] for k in ("sha256", "size", "content_type", "metadata", "stored_at")}

    def put(self, src, key, sha256, size, content_type, metadata):
        path = self.object_path(key)
        self.makedirs(path, key)
        try:
            with AtomicFile(path) as out, open(src, "rb") as source:
                copied, written = copy_hashed(source, out)
                if sha256 is not None and (copied != sha256 or written != size):
                    raise LabError("artifact src %s changed while it was being stored: store it again once it "
                                   "is no longer being written" % src)
        except (IOError, OSError) as exc:
            raise LabError("cannot store artifact %s at %s: %s; check free space and permissions"
                           % (key, path, exc.strerror or exc))
        sha256, size = copied, written
        rec = record(key, sha256, size, content_type, metadata, utc_now(), self.key_url(key))
        self.write_record(key, self._record_data(rec))
        return rec

    def update_record(self, key, current, content_type, metadata):
        rec = dict(current, content_type=content_type, metadata=metadata, stored_at=utc_now())
        self.write_record(key, self._record_data(rec))
        return rec

    def get(self, key, out):
        path = self.object_path(key)
        try:
            with open(path, "rb") as source:
                return copy_hashed(source, out)
        except (IOError, OSError) as exc:
            raise LabError("cannot read artifact %s at %s: %s" % (key, path, exc.strerror or exc))

    def list(self, prefix):
        out = []
        if not os.path.isdir(self.records):
            return out
        for directory, dirnames, filenames in os.walk(self.records):
            dirnames.sort()
            for name in filenames:
                if not name.endswith(RECORD_SUFFIX):
                    continue
                rel = os.path.relpath(os.path.join(directory, name), self.records)
                key = rel[:-len(RECORD_SUFFIX)].replace(os.sep, "/")
                if key.startswith(prefix):
                    rec = self.head(key)
                    if rec is not None:
                        out.append(rec)
        return sorted(out, key=lambda r: r["key"])
