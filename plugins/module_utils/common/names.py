# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deterministic mapping of arbitrary names to Kubernetes RFC 1123 names.

A valid name is kept as is.  Anything else is lowercased, invalid characters become
`-`, the ends are trimmed, and a short hash of the ORIGINAL is appended, so two
different inputs that clean up to the same text still get different names.  The
result also starts with a letter (RFC 1035), because Clabernetes derives Service
names from node and Topology names.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError

LABEL_MAX = 63
SUBDOMAIN_MAX = 253
HASH_LEN = 8

_LABEL_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def short_hash(value, length=HASH_LEN):
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:length]


def is_label(value, max_len=LABEL_MAX):
    """RFC 1123 label that also starts with a letter (so RFC 1035 too)."""
    return isinstance(value, str) and len(value) <= max_len and bool(_LABEL_RE.match(value))


def is_dns_label(value, max_len=LABEL_MAX):
    """Plain RFC 1123 label (may start with a digit): namespaces."""
    return isinstance(value, str) and len(value) <= max_len and bool(_DNS_LABEL_RE.match(value))


def is_subdomain(value, max_len=SUBDOMAIN_MAX):
    return (isinstance(value, str) and len(value) <= max_len and bool(_SUBDOMAIN_RE.match(value))
            and all(len(part) <= LABEL_MAX for part in value.split(".")))


def _with_hash(base, original, max_len):
    suffix = "-" + short_hash(original)
    base = base[:max_len - len(suffix)].rstrip("-.")
    if not base or not base[0].isalpha():
        base = ("n" + base)[:max_len - len(suffix)].rstrip("-.")
    return base + suffix


def to_label(value, max_len=LABEL_MAX):
    """Map `value` to an RFC 1123/1035 label of at most max_len characters."""
    value = str(value)
    if is_label(value, max_len):
        return value
    base = re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")
    return _with_hash(base, value, max_len)


def to_subdomain(value, max_len=SUBDOMAIN_MAX):
    """Map `value` to an RFC 1123 subdomain (dot-separated labels) of at most max_len."""
    value = str(value)
    if is_subdomain(value, max_len):
        return value
    base = re.sub(r"[^a-z0-9.-]+", "-", value.lower())
    parts = [part.strip("-")[:LABEL_MAX] for part in base.split(".")]
    base = ".".join(part for part in parts if part)
    return _with_hash(base, value, max_len)


def map_names(originals, what, mapper=to_label):
    """{original: mapped} for every original; LabError when two originals collide.

    `what` names the kind of thing ("node", "Topology") for the error message.
    """
    mapped = {}
    owner = {}
    for original in originals:
        name = mapper(original)
        other = owner.get(name)
        if other is not None and other != original:
            raise LabError(
                "%s names %r and %r both map to the Kubernetes name %r; rename one of them "
                "in the topology so they stay distinct" % (what, other, original, name),
                names=[other, original], mapped=name)
        owner[name] = original
        mapped[original] = name
    return mapped
