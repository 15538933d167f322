# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ConfigMap packing: keys, size accounting against the real serialisation, packing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import random
import re

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.c9s import pack as configmaps
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError

LABELS = {"app.kubernetes.io/managed-by": "skyforge.labs", "skyforge.labs/lab": "lab"}


def _contents(count, seed=7):
    rng = random.Random(seed)
    out = []
    for index in range(count):
        size = rng.choice([10, 500, 4000, 40000, 150000])
        if index % 5 == 0:
            out.append(os.urandom(size))          # binary
        elif index % 5 == 1:
            out.append(('"quoted"\t\\ é ✓ \r\n' * (size // 20)).encode("utf-8"))  # escapes
        else:
            out.append(("line %d\n" % index * (size // 8)).encode("utf-8"))
    return out


def _blobs(contents):
    unique = {}
    for index, data in enumerate(contents):
        blob = configmaps.describe(data, "node_files/n%d/file" % index)
        unique.setdefault(blob.sha256, blob)
    return list(unique.values())


def test_keys_are_valid_and_readable():
    key = configmaps.content_key("ab" * 32, "node_files/r1/weird name!.cfg")
    assert re.match(r"^[-._a-zA-Z0-9]+$", key) and len(key) <= 253
    assert key.startswith("ab" * 10) and key.endswith("weird-name-.cfg")
    assert configmaps.content_key("ab" * 32, "x/" + "é" * 10) == "ab" * 10


@pytest.mark.parametrize("budget", [60000, 300000, 900000, 1048576])
def test_packed_objects_never_exceed_the_budget_in_real_json(budget):
    contents = _contents(60)
    blobs = _blobs(contents)
    by_sha = dict((configmaps.describe(data).sha256, data) for data in contents)
    envelope = configmaps.envelope_bytes("a-namespace", LABELS)
    fitting = [b for b in blobs if configmaps.fits(b, budget, envelope)]
    bins = configmaps.pack(fitting, budget, envelope)
    assert sorted(b.sha256 for members in bins for b in members) == sorted(b.sha256 for b in fitting)
    for members in bins:
        name = configmaps.configmap_name("lab", [b.key for b in members])
        obj = configmaps.build(name, "a-namespace", LABELS, [(b, by_sha[b.sha256]) for b in members])
        size = configmaps.serialized_size(obj)
        assert configmaps.built_size(obj, members) == size     # what the render reports, without encoding again
        assert size <= budget
        # the accounting is an upper bound of the JSON a client sends, escapes included
        assert size <= envelope + sum(b.entry_bytes for b in members)
        raw = sum(len(v.encode("utf-8")) for v in obj.get("data", {}).values()) + \
            sum(len(base64.b64decode(v)) for v in obj.get("binaryData", {}).values())
        assert raw <= configmaps.HARD_LIMIT


def test_binary_goes_to_binary_data_byte_for_byte():
    data = b"\x00\xff\xfe binary \x80"
    blob = configmaps.describe(data, "bin/file")
    assert not blob.is_text
    obj = configmaps.build("lab-files-x", "ns", LABELS, [(blob, data)])
    assert "data" not in obj
    assert base64.b64decode(obj["binaryData"][blob.key]) == data


def test_packing_is_deterministic_and_tight():
    blobs = _blobs([("x" * 1000 + "%03d" % i).encode() for i in range(100)])
    envelope = configmaps.envelope_bytes("ns", LABELS)
    budget = envelope + 10 * blobs[0].entry_bytes
    first = configmaps.pack(blobs, budget, envelope)
    second = configmaps.pack(list(reversed(blobs)), budget, envelope)
    assert [[b.key for b in members] for members in first] == [[b.key for b in members] for members in second]
    assert len(first) == 10


def test_configmap_names_follow_content_and_never_exceed_a_label():
    one = configmaps.configmap_name("lab", ["a", "b"])
    assert one == configmaps.configmap_name("lab", ["b", "a"])
    assert one != configmaps.configmap_name("lab", ["a", "c"])
    assert one != configmaps.configmap_name("lab2", ["a", "b"])
    long_name = configmaps.configmap_name("x" * 63, ["a"])
    assert len(long_name) <= 63 and re.match(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", long_name)


@pytest.mark.parametrize("budget", [0, -1, 1048577, "900000"])
def test_budget_over_the_kubernetes_limit_is_refused(budget):
    with pytest.raises(LabError, match="max_configmap_bytes"):
        configmaps.check_budget(budget)


def test_text_accounting_counts_json_escapes():
    data = ('"\\\n\t' * 1000).encode()
    blob = configmaps.describe(data, "f")
    assert blob.value_bytes == len(json.dumps(data.decode()))
    assert blob.value_bytes > len(data)


def test_value_bytes_is_the_json_or_base64_length_for_any_content():
    """describe() counts plain ASCII texts without encoding them; the figure must be
    exactly json.dumps' length (text) or base64's plus quotes (binary)."""
    rng = random.Random(15)
    alphabet = [bytes([b]) for b in range(0x20, 0x7f)] + [b"\n", b'"', b"\\", b"\t", b"\r", b"\x00", b"\x7f",
                                                          u"é".encode("utf-8"), u"✓".encode("utf-8"), b"\xff"]
    for _round in range(5000):
        content = b"".join(rng.choice(alphabet) for _i in range(rng.randrange(0, 40)))
        blob = configmaps.describe(content)
        try:
            expected = (len(json.dumps(content.decode("utf-8"))), True)
        except UnicodeDecodeError:
            expected = (len(base64.b64encode(content)) + 2, False)
        assert (blob.value_bytes, blob.is_text) == expected, content
