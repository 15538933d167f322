# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""yaml_text.load builds common documents itself; it must give exactly what the safe
loader gives (values, types, shared aliases) and the same errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import random
import re

import pytest
import yaml

from ansible_collections.skyforge.labs.plugins.module_utils.common import yaml_text

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".."))

DOCUMENTS = [
    "",
    "# only a comment\n",
    "a: 1\nb: [true, no, ~, null, 1.5, 0x1f, 0o17, 017, 1_000, 2001-12-14, .inf, '1', \"x\"]\n",
    "1: one\n2: two\n'3': three\n",
    "name: x\ntopology:\n  nodes:\n    r1: {kind: linux, binds: ['a:/b', 'c:/d:ro']}\n    r2:\n",
    "defaults: &d {kind: linux, image: x}\nnodes:\n  r1:\n    <<: *d\n    image: y\n",
    "shared: &s [1, 2]\nfirst: *s\nsecond: *s\n",
    "~: null key\ntrue: bool key\n1.5: float key\n",
    "set: !!set {a, b}\nomap: !!omap [{a: 1}, {b: 2}]\nbin: !!binary aGVsbG8=\n",
    "explicit: !!str 123\nmap: !!map {a: b}\nseq: !!seq [a]\n",
    "dup: 1\ndup: 2\n",
    "text: |\n  line 1\n  line 2\nfolded: >\n  a\n  b\n",
    "= : value key\n",
    "- a\n- [b, {c: d}]\n- - e\n",
    "plain scalar at the root\n",
]

BAD = ["a: !!python/object:os.system x\n", "a: !unknown x\n", "[a\n", "a: b: c\n", "a: !!int x\n",
       "? !!set {a}\n: x\n", "? [a, b]\n: unhashable key\n"]


def _same(text):
    expected = yaml.load(text, Loader=yaml_text.Loader)  # nosec B506 - the safe loader
    assert yaml_text.load(text) == expected
    assert _types(yaml_text.load(text)) == _types(expected)
    return expected


def _types(value):
    if isinstance(value, dict):
        return sorted((repr(k), type(k).__name__, _types(v)) for k, v in value.items() if v is not value)
    if isinstance(value, list):
        return [_types(v) for v in value if v is not value]
    return type(value).__name__


@pytest.mark.parametrize("text", DOCUMENTS)
def test_load_equals_the_safe_loader(text):
    _same(text)


def test_aliases_are_the_same_object_and_recursion_holds():
    shared = yaml_text.load("shared: &s [1, 2]\nfirst: *s\nsecond: *s\n")
    assert shared["first"] is shared["shared"] is shared["second"]
    loop = yaml_text.load("loop: &l [*l]\n")
    assert loop["loop"][0] is loop["loop"]


@pytest.mark.parametrize("text", BAD)
def test_errors_are_the_safe_loaders(text):
    with pytest.raises(Exception) as expected:  # a YAMLError, or ValueError for `!!int x`
        yaml.load(text, Loader=yaml_text.Loader)  # nosec B506 - the safe loader
    with pytest.raises(Exception) as got:
        yaml_text.load(text)
    assert type(got.value) is type(expected.value) and str(got.value) == str(expected.value)


def test_example_topologies_and_random_documents():
    for path in sorted(glob.glob(os.path.join(REPO, "examples", "*", "*.yml"))):
        with open(path, "rb") as handle:
            _same(handle.read())
    rng = random.Random(15)
    scalars = ["a", "yes", "No", "~", "", "1", "-1", "0x10", "1e3", "1.0", "2020-01-01", "<<", "=", "'q'",
               "node_files/r1/x", "[x]", "{y: z}", "&a b", "*a", "!!str 5", "\"\\u00e9\"", "'it''s'"]

    def value(depth):
        roll = rng.random()
        if depth > 3 or roll < 0.5:
            return rng.choice(scalars)
        if roll < 0.75:
            return "[%s]" % ", ".join(value(depth + 1) for _i in range(rng.randrange(4)))
        return "{%s}" % ", ".join("%s: %s" % (rng.choice(scalars[:12]), value(depth + 1)) for _i in range(rng.randrange(4)))

    checked = 0
    for _round in range(400):
        text = "\n".join("k%d: %s" % (i, value(0)) for i in range(rng.randrange(1, 6))) + "\n"
        try:
            yaml.load(text, Loader=yaml_text.Loader)  # nosec B506 - the safe loader
        except yaml.YAMLError:
            continue
        _same(text)
        checked += 1
    assert checked > 100


def test_implicit_matcher_matches_whatever_a_resolver_would_not_call_str():
    matcher = yaml_text.implicit_matcher(yaml.resolver.Resolver.yaml_implicit_resolvers)
    resolver = yaml.resolver.Resolver()
    rng = random.Random(15)
    alphabet = "aeflnorstuyNOTY0123456789._-+:=<~!&* xX"
    samples = ["true", "False", "on", "~", "null", "", "0", "-0x1F", "1_0", "1:30", ".5", "-.inf", ".NaN",
               "2001-12-14t21:59:43.10-05:00", "<<", "=", "!", "node_files/r1/x", "n00001", "yes_no"]
    samples += ["".join(rng.choice(alphabet) for _i in range(rng.randrange(1, 8))) for _n in range(20000)]
    for text in samples:
        plain_str = resolver.resolve(yaml.ScalarNode, text, (True, False)) == "tag:yaml.org,2002:str"
        if not matcher.match(text):
            assert plain_str, text
    assert matcher.match("true") and not matcher.match("n00001")
    assert yaml_text.implicit_matcher({"x": [("t", re.compile("a", re.ASCII))]}) is None
