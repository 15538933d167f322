# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The purpose-written YAML emitter writes exactly what PyYAML writes, or declines.

Every case compares emit() with c9s.dump_yaml() (PyYAML with libyaml, as the render uses
it) and with the pure-Python PyYAML emitter (what it uses without libyaml), each given
as the fallback for quoted scalars and not at all: the fast path's own text must match
both.  A decline (None) is always allowed; the render then uses PyYAML.  Other tests
make sure the fast path is really taken for what labs contain, so "always decline"
cannot pass.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import os
import random

import pytest
import yaml

from ansible_collections.skyforge.labs.plugins.module_utils.c9s import output as c9s, pack as configmaps
from tests.ci import unavailable
from ansible_collections.skyforge.labs.plugins.module_utils.c9s import yaml_emit as c9s_yaml_emit

_REAL_EMIT = c9s_yaml_emit.emit
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".."))


class _PyDumper(yaml.SafeDumper):
    pass


_PyDumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None))


def pure_python_dump(obj):
    return yaml.dump(obj, Dumper=_PyDumper, default_flow_style=False, sort_keys=True,
                     allow_unicode=True, width=2 ** 30)


def check(obj):
    """emit(obj) declines or equals both PyYAML emitters; returns whether it emitted."""
    emitted = False
    for dump in (c9s.dump_yaml, pure_python_dump):
        for fallback in (dump, None):
            fast = c9s_yaml_emit.emit(obj, fallback)
            if fast is not None:
                assert fast == dump(obj), repr(obj)
                assert yaml.safe_load(fast) == obj
                emitted = emitted or (fallback is dump and dump is c9s.dump_yaml)
    return emitted


HOSTILE = [
    "", " ", "\n", "\n\n", "a", "a\n", "a\n\n", "a\n\n\n", "\na", " a\n", "a \n", "a\n ", "a\n b\n",
    "a\n\nb\n", "a\n\n\nb", "  two\n spaces\n", "\ttab\n", "x\ty\n", "tab\t", "cr\r\n", "cr\rmid\n",
    "nul\x00\n", "bell\x07\n", "del\x7f\n", "nel\x85x\n", "ls\u2028x\n", "ps\u2029x\n",
    "\ufeffbom\n", "bom\ufeff\n", "caf\u00e9\n", "caf\u00e9", "nbsp\u00a0\n", "\u00a0lead\n",
    "emoji \U0001F600\n", "priv\ue000\n", "nonchar\ufffe\n", "max\U0010ffff\n", "surr\ud7ff\n",
    "---\n", "--- \n", "---", "...\n", "...", "--- a\nb\n", "a\n---\nb\n", "a\n...\nb\n", "#c\n",
    "# comment", "key: value", "key: value\n", "a:b", "a: b", ":", "- item", "-", "-a", "? q",
    "'single'", '"double"', "it's\n", 'say "hi"\n', "{a: 1}", "[1, 2]", "&anchor", "*alias",
    "!tag", "%dir", "@at", "`tick", "|", ">", "|\nx\n", "true", "True", "TRUE", "yes", "no",
    "on", "off", "y", "n", "null", "Null", "~", "0", "1", "-1", "+1", "0x1f", "0o17", "0b11",
    "1_000", "1.5", "1e5", "1.0e+5", ".inf", "-.Inf", ".nan", "190:20:30", "2001-12-14",
    "2001-12-14t21:59:43.10-05:00", "<<", "=", "abc", "a.b/c-d_e", "_x", "a/b", "/abs", "./rel",
    "a b", "a  b", "trailing ", " leading", "x" * 200, "y" * 100000 + "\n", ("long line " * 5000) + "\n",
    "AAAA", "+/==", "ab+c/d==", "QUJD", "1234", "+123", "/+/+",
    "line\n" * 1000, "no newline at end\nlast", "ends with space \nx\n", "\x1b[1mansi\x1b[0m\n",
    "back\\slash\n", "back\\slash", "percent %s\n", "hash # inside\n", "colon: inside\n",
]


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v)[:40])
def test_hostile_strings_in_every_position(value):
    objects = [
        {"data": {"k": value}},
        {"data": {"k": value, "z": "b\n"}, "kind": "ConfigMap"},
        {"metadata": {"labels": {"a": value}}},
        {"a": [value, "x"]},
        {"a": [{"b": value, "c": "d"}]},
        {"spec": {"definition": {"containerlab": value}}},
    ]
    if "\n" not in value:
        objects += [{value: "v"}, {"m": {value: ["x"]}}, {"a": [{value: value}]}]
    for obj in objects:
        check(obj)


@pytest.mark.parametrize("after", ["plain", "true", "", "a: b", "x\n", "x\n\n", "x", "caf\u00e9\n", "tab\t\n"])
def test_kept_blocks_followed_by_anything(after):
    """After a `|+` block libyaml ends the document with `...` unless another block
    scalar follows; PyYAML's own emitter never does: both are matched or declined."""
    for obj in ({"a": "x\n\n", "b": after}, {"a": ["x\n\n", after]}, {"a": {"k": "x\n\n"}, after or "e": after},
                {"a": "x\n\n", "b": after, "c": "y\n"}, {"a": "x\n\n", "b": {"c": [after, "z\n\n"]}, "d": "v"}):
        check(obj)


def test_the_fast_path_covers_what_labs_contain():
    """Netlab-like texts, names, paths, labels and base64 are emitted, not declined."""
    assert check({"data": {"0123456789abcdef0123-initial": "#!/bin/bash\nset -e\n\nip link set eth1 up\n"}})
    assert check({"data": {"k": "interface eth1\n  ip address 10.0.0.1/30\n!\nend"}})
    assert check({"data": {"k": "caf\u00e9 \u2014 r\u00e9seau\n"}})
    assert check({"binaryData": {"k": base64.b64encode(os.urandom(3000)).decode("ascii")}})
    assert check({"a": [{"configMapName": "lab-files-0123456789", "configMapPath": "0123-x",
                         "filePath": "node_files/-shared-hosts", "mode": "read"}]})
    assert check({"enabled": False, "n": None, "i": 600, "empty": {}, "none": []})
    assert check({"k": "true", "n": "123", "d": "2001-12-14"})   # quoted by the resolver
    assert check({"data": {"k": "#!/bin/sh\nset -e\n\n", "z": "b\n"}, "kind": "ConfigMap"})   # netlab's `initial`


ALPHABET = ["a", "b", "Z", "0", "7", " ", " ", "\n", "\n", "\t", "\r", ":", "#", "-", ".", "/", "'",
            '"', "\\", "\x85", "\u2028", "\ufeff", "\u00e9", "\U0001F600", "\x00", "_", "=", "+",
            "?", "&", "*", "!", "|", ">", "%", "@", "`", ",", "[", "{"]


def _random_string(rng):
    length = rng.choice([0, 1, 2, 3, 5, 8, 20, 60])
    if rng.random() < 0.5:   # mostly harmless text with a few hostile characters
        return "".join(rng.choice(ALPHABET[:8] if rng.random() < 0.9 else ALPHABET) for _index in range(length))
    return "".join(rng.choice(ALPHABET) for _index in range(length))


def _random_value(rng, depth):
    roll = rng.random()
    if depth > 2 or roll < 0.55:
        return rng.choice([_random_string, _random_string, _random_string,
                           lambda r: r.choice([True, False, None, 0, -3, 10 ** 20, 1.5])])(rng)
    if roll < 0.8:
        return dict((_random_string(rng) if rng.random() < 0.3 else "k%d" % i, _random_value(rng, depth + 1))
                    for i in range(rng.randrange(0, 4)))
    return [_random_value(rng, depth + 1) for _index in range(rng.randrange(0, 4))]


def test_random_structures_and_strings():
    rng = random.Random(15)
    emitted = 0
    for _case in range(4000):
        obj = dict(("k%d" % i, _random_value(rng, 0)) for i in range(rng.randrange(1, 4)))
        emitted += check(obj)
    assert emitted > 400     # the fast path is exercised, not only declined


def test_declines_what_it_does_not_know():
    assert c9s_yaml_emit.emit({}) is None
    assert c9s_yaml_emit.emit({"f": 1.5}) is None
    assert c9s_yaml_emit.emit({1: "int key"}) is None
    assert c9s_yaml_emit.emit({"k" * 200: "long key"}) is None
    assert c9s_yaml_emit.emit({"a": [["nested"]]}) is None
    assert c9s_yaml_emit.emit({"a": "b", 1: "c"}) is None      # keys that do not sort


def test_real_configmaps_and_topology_match_pyyaml(tmp_path):
    """What the render builds, from texts (UTF-8 and not) of every kind."""
    rng = random.Random(3)
    contents = [s.encode("utf-8") for s in HOSTILE] + [os.urandom(rng.randrange(1, 5000)) for _index in range(20)]
    entries = [(configmaps.describe(c, "files/f%d" % i), c) for i, c in enumerate(contents)]
    labels = {"app.kubernetes.io/managed-by": "skyforge.labs", "skyforge.labs/lab": "lab", "team": "net-ops"}
    for start in range(0, len(entries), 7):
        check(configmaps.build("lab-files-%010d" % start, "lab-ns", labels, entries[start:start + 7]))
        check(configmaps.build("lab-files-%010d" % start, "lab-ns", labels, entries[start:start + 1]))
    topology = {"apiVersion": "c9s.run/v1alpha1", "kind": "Topology",
                "metadata": {"name": "lab", "namespace": "lab-ns", "labels": labels},
                "spec": {"definition": {"containerlab": "name: lab\ntopology:\n  nodes:\n    r1: {}\n"},
                         "naming": "global", "statusProbes": {"enabled": False},
                         "expose": {"disableExpose": True},
                         "deployment": {"filesFromConfigMap": {"r1": [
                             {"filePath": "node_files/r1/x", "configMapName": "lab-files-0000000000",
                              "configMapPath": "0123-x", "mode": "execute"}]},
                             "filesFromURL": {"r1": [{"filePath": "big.img",
                                                      "url": "https://files.example.com/big.img"}]}}}}
    assert check(topology)      # the URL is written by PyYAML, in place


SMALL_HOSTILE = [text for text in HOSTILE if len(text) < 1000]


def _bench_like_lab(root, nodes=40):
    """A deterministic lab: per node a startup-config, three scripts and a shared file,
    plus hostile contents (binary, CRLF, tabs, trailing spaces) on a few nodes."""
    rng = random.Random(42)
    lines = ["name: golden", "topology:", "  nodes:"]
    os.makedirs(os.path.join(root, "node_files"))
    with open(os.path.join(root, "node_files", "-shared-daemons"), "w") as handle:
        handle.write("zebra=yes\nbgpd=yes\n")
    for index in range(nodes):
        name = "n%02d" % index
        directory = os.path.join(root, "node_files", name)
        os.makedirs(directory)
        texts = {"startup.cfg": "hostname %s\n!\ninterface eth1\n ip address 10.0.%d.1/30\n" % (name, index),
                 "initial": "#!/bin/bash\nset -e\n\nip link set eth1 up  # %d\n" % rng.randrange(999),
                 "ospf": "router ospf\n ospf router-id 10.0.0.%d\n" % index,
                 "bgp": SMALL_HOSTILE[index * 7 % len(SMALL_HOSTILE)]}
        if index % 9 == 0:
            texts["bgp"] = bytes(bytearray(rng.randrange(256) for _index in range(300)))
        for leaf, text in texts.items():
            with open(os.path.join(directory, leaf), "wb") as handle:
                handle.write(text if isinstance(text, bytes) else text.encode("utf-8"))
            os.chmod(os.path.join(directory, leaf), 0o755 if leaf != "startup.cfg" else 0o644)
        lines += ["    %s:" % name, "      kind: linux", "      startup-config: node_files/%s/startup.cfg" % name,
                  "      binds:"] + ["      - node_files/%s/%s:/etc/%s" % (name, leaf, leaf)
                                     for leaf in ("initial", "ospf", "bgp")]
        lines.append("      - node_files/-shared-daemons:/etc/frr/daemons:ro")
    with open(os.path.join(root, "clab.yml"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return root


# sha256 of the manifests of _bench_like_lab as the renderer wrote them before the fast
# emitter existed (PyYAML only, commit 72f3338), for both APIs; renewed when the render
# gained the lab's inventory ConfigMap (issue 16: one more document; without it the bytes
# still hash to 4cb23993... and dc20cb36..., the values before).
GOLDEN = {
    "c9s.run/v1alpha1": "91b18cc1a16623af5396e2c8e67d30b6df454cda19055c2903ae02bbbcc4d10e",
    "clabernetes.containerlab.dev/v1alpha1": "f36915a72778559eaa98dff757ece2946b1a8b7aa903705c94207ebb97d980d1",
}


@pytest.mark.parametrize("api_version", sorted(GOLDEN))
def test_render_output_is_unchanged_byte_for_byte(tmp_path, monkeypatch, api_version):
    lab = _bench_like_lab(str(tmp_path / "lab"))
    fast_bytes, generic_bytes, emitted = _both_ways(lab, tmp_path, monkeypatch, api_version=api_version,
                                                    max_configmap_bytes=4000)
    assert hashlib.sha256(fast_bytes).hexdigest() == GOLDEN[api_version]
    assert generic_bytes == fast_bytes
    # 6 ConfigMaps + the Topology: two ConfigMaps hold what neither a literal block nor
    # a one-line quoted scalar carries (e.g. `|+` texts) and are written by PyYAML
    assert emitted >= 5


def _both_ways(src, tmp_path, monkeypatch, **options):
    """(manifests with the fast emitter, manifests with PyYAML only, objects emitted fast)."""
    emitted = []
    real_emit = _REAL_EMIT

    def counting(obj, dump=None):
        text = real_emit(obj, dump)
        emitted.append(text is not None)
        return text

    outputs = []
    for emit in (counting, lambda obj, dump=None: None):
        monkeypatch.setattr(c9s_yaml_emit, "emit", emit)
        dest = str(tmp_path / ("out-%d.yml" % len(outputs)))
        c9s.render(src, dest, "lab-ns", **options)
        with open(dest, "rb") as handle:
            outputs.append(handle.read())
    return outputs[0], outputs[1], sum(emitted)


@pytest.mark.parametrize("example", ["frr-small", "multi-vendor", "large"])
def test_examples_render_as_pyyaml_renders_them(tmp_path, monkeypatch, example):
    """The README's example labs, generated by the real netlab: same bytes either way."""
    from ansible_collections.skyforge.labs.plugins.module_utils.netlab import generate as netlab_generate
    if not os.path.exists(os.path.join(REPO, ".venv", "bin", "netlab")):
        unavailable("netlab is not installed in .venv")
    bundle = str(tmp_path / "bundle.tar.gz")
    netlab_generate.generate(os.path.join(REPO, "examples", example, "topology.yml"),
                             str(tmp_path / "work"), bundle)
    for api_version in sorted(GOLDEN):
        fast_bytes, generic_bytes, emitted = _both_ways(bundle, tmp_path, monkeypatch, api_version=api_version)
        assert fast_bytes == generic_bytes
        assert emitted >= 2     # at least a ConfigMap and the Topology took the fast path
