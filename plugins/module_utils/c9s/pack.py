# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pack lab files into ConfigMaps: content-addressed, deduplicated, size-safe.

Size accounting (what a ConfigMap "costs" against `max_configmap_bytes`) is the length
of its compact JSON serialisation, which is what a client sends and an upper bound of
what the API server and etcd store:

  envelope  = len(JSON of apiVersion/kind/metadata/immutable, with the longest possible
              name) + ENVELOPE_MARGIN
  per entry = len(JSON key) + len(JSON value) + 2   (":" and ",")
              JSON value of text  = the json.dumps(..., ensure_ascii=True) string,
                                    escapes included (worst case of any encoder)
              JSON value of bytes = base64 length + 2 quotes

The API server's own rule (sum of data + binaryData value bytes <= 1,048,576) is
always met because every term above is at least as large as the raw bytes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import re

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError

HARD_LIMIT = 1048576
ENVELOPE_MARGIN = 1024
KEY_MAX = 253
HINT_MAX = 60
KEY_HASH_LEN = 20
NAME_HASH_LEN = 10
NAME_MAX = 63  # Clabernetes v0.6 names the pod volume after the ConfigMap: a label.

_KEY_INVALID = re.compile(r"[^-._a-zA-Z0-9]+")
_JSON_PLAIN = bytes(range(0x20, 0x7f)) + b"\n"    # bytes json.dumps writes as they are, or as \n \" \\
_COMPACT = (",", ":")


class Blob(object):
    """One distinct file content, stored once whatever the number of nodes using it.

    `key` is set by set_key() once the canonical path (the hint) is known.
    """

    __slots__ = ("sha256", "size", "is_text", "value_bytes", "key", "_entry")

    def __init__(self, sha256, size, is_text, value_bytes, key=None):
        self.sha256 = sha256
        self.size = size
        self.is_text = is_text
        self.value_bytes = value_bytes
        self.key = key
        self._entry = None

    @property
    def entry_bytes(self):
        """JSON bytes of `"key":value,` (packing asks several times per blob)."""
        if self._entry is None or self._entry[0] is not self.key:
            self._entry = (self.key, len(json.dumps(self.key)) + self.value_bytes + 2)
        return self._entry[1]


def content_key(sha256, hint):
    """`<sha256 prefix>-<readable hint>`; a valid ConfigMap key of at most 253 characters."""
    readable = _KEY_INVALID.sub("-", hint.rsplit("/", 1)[-1])[:HINT_MAX].strip("-")
    key = sha256[:KEY_HASH_LEN]
    return key + "-" + readable if readable else key


def describe(content, hint=None):
    """A Blob for `content` (bytes); `hint` (a path) makes the key readable."""
    sha = hashlib.sha256(content).hexdigest()
    text = True
    if not content.translate(None, _JSON_PLAIN):
        # printable ASCII and line feeds (most lab files): JSON escapes only \n, " and \\,
        # as two characters each; counted without decoding and encoding the text
        value_bytes = len(content) + 2 + content.count(b"\n") + content.count(b'"') + content.count(b"\\")
    else:
        try:
            value_bytes = len(json.dumps(content.decode("utf-8")))
        except UnicodeDecodeError:
            value_bytes = 4 * ((len(content) + 2) // 3) + 2
            text = False
    blob = Blob(sha, len(content), text, value_bytes)
    if hint is not None:
        set_key(blob, hint)
    return blob


def set_key(blob, hint):
    blob.key = content_key(blob.sha256, hint)
    return blob


def configmap_name(prefix, keys):
    """`<prefix>-files-<hash>`: derived from the content, so new content, new name."""
    digest = hashlib.sha256(("%s\n%s" % (prefix, "\n".join(sorted(keys)))).encode("utf-8"))
    suffix = "-files-" + digest.hexdigest()[:NAME_HASH_LEN]
    return prefix[:NAME_MAX - len(suffix)].rstrip("-") + suffix


def metadata(name, namespace, labels):
    return {"name": name, "namespace": namespace, "labels": dict(labels)}


def envelope_bytes(namespace, labels):
    """JSON bytes of everything but data/binaryData, for the longest possible name."""
    skeleton = {"apiVersion": "v1", "kind": "ConfigMap", "immutable": True,
                "metadata": metadata("x" * NAME_MAX, namespace, labels),
                "data": {}, "binaryData": {}}
    return len(json.dumps(skeleton, separators=_COMPACT)) + ENVELOPE_MARGIN


def check_budget(max_bytes):
    if not isinstance(max_bytes, int) or max_bytes <= 0 or max_bytes > HARD_LIMIT:
        raise LabError("max_configmap_bytes is %r; it must be a positive integer of at most %d "
                       "(the Kubernetes limit for one ConfigMap)" % (max_bytes, HARD_LIMIT),
                       field="max_configmap_bytes")


def fits(blob, budget, envelope):
    return envelope + blob.entry_bytes <= budget


def pack(blobs, budget, envelope):
    """First-fit decreasing over blobs (ordered by size then key, so deterministic).

    Returns a list of bins, each a list of Blobs sorted by key.  Every blob must fit on
    its own (see fits()); the caller routes the others elsewhere.
    """
    capacity = budget - envelope
    bins = []
    room = []
    sized = sorted(((-blob.entry_bytes, blob.key), blob) for blob in blobs)
    for (negative, _key), blob in sized:
        entry_bytes = -negative
        if entry_bytes > capacity:
            raise LabError("internal: %s (%d bytes) cannot fit a ConfigMap; check fits() first"
                           % (blob.key, blob.size))
        for index, free in enumerate(room):
            if entry_bytes <= free:
                bins[index].append(blob)
                room[index] -= entry_bytes
                break
        else:
            bins.append([blob])
            room.append(capacity - entry_bytes)
    return [sorted(members, key=lambda b: b.key) for members in bins]


def build(name, namespace, labels, entries):
    """The ConfigMap object; entries = [(Blob, content bytes)]."""
    data = {}
    binary = {}
    for blob, content in entries:
        if blob.is_text:
            data[blob.key] = content.decode("utf-8")
        else:
            binary[blob.key] = base64.b64encode(content).decode("ascii")
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "immutable": True,
           "metadata": metadata(name, namespace, labels)}
    if data:
        obj["data"] = data
    if binary:
        obj["binaryData"] = binary
    return obj


def serialized_size(obj):
    """Compact JSON length: the figure the packing budget is checked against."""
    return len(json.dumps(obj, separators=_COMPACT))


def built_size(obj, blobs):
    """serialized_size(obj) of build()'s ConfigMap holding `blobs`, from the sizes the
    blobs already know: the envelope is encoded, the file contents are not again."""
    size = serialized_size(dict((k, {} if k in ("data", "binaryData") else v) for k, v in obj.items()))
    for is_text in (True, False):
        entries = [blob.entry_bytes for blob in blobs if blob.is_text == is_text]
        if entries:
            size += sum(entries) - 1    # entry_bytes counts a comma after every entry
    return size


def too_large_message(path, size, budget, envelope):
    return ("file %s is %d bytes, more than fits in one ConfigMap (max_configmap_bytes %d, of "
            "which %d go to the object envelope and encoding); set large_file_url to serve "
            "large files over HTTP (they become filesFromURL entries), raise "
            "max_configmap_bytes (at most %d), or make the file smaller"
            % (path, size, budget, envelope, HARD_LIMIT))
