"""The one lab loader: a directory, a containerlab file and a bundle give the same view."""

import json

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.common.files import atomic_write
from ansible_collections.skyforge.labs.plugins.module_utils.lab import bundle, source

CLAB = (b"name: l\ntopology:\n  kinds: {linux: {image: 'frr:1'}}\n"
        b"  nodes: {r1: {kind: linux}, r2: {kind: ceos, image: 'ceos:4'}}\n")
FILES = {"clab.yml": (CLAB, 0o644),
         "host_vars/r1/topology.json": (json.dumps({"module": ["ospf", "lag"]}).encode(), 0o644),
         "node_files/r1/initial": (b"#!/bin/sh\n", 0o755)}


def _lab_dir(tmp_path):
    for rel, (data, mode) in FILES.items():
        atomic_write(str(tmp_path / "lab" / rel), data, mode)
    return tmp_path / "lab"


def _summary(nodes):
    return [(n.name, n.kind, n.image, n.modules) for n in nodes]


def test_directory_clab_file_and_bundle_agree(tmp_path):
    lab = _lab_dir(tmp_path)
    packed = str(tmp_path / "lab.tar.gz")
    atomic_write(packed, bundle.bundle_bytes(FILES))
    copy = tmp_path / "lab" / "copied-by-a-role.yml"   # any name: its directory is the lab
    copy.write_bytes(CLAB)
    expected = [("r1", "linux", "frr:1", ["lag", "ospf"]), ("r2", "ceos", "ceos:4", [])]
    for src in (str(lab), str(lab / "clab.yml"), str(copy), packed):
        assert _summary(source.lab_nodes(src)) == expected, src
        with source.open_lab(src) as opened:
            assert opened.files_at("node_files/r1") == [("node_files/r1/initial", 0o755)]


def test_what_is_not_a_lab_is_named(tmp_path):
    with pytest.raises(LabError, match="no lab given"):
        source.lab_nodes("")
    with pytest.raises(LabError, match="holds no clab.yml"):
        source.open_lab(str(tmp_path))
    with pytest.raises(LabError, match="does not exist"):
        source.open_lab(str(tmp_path / "nope.tar.gz"))
    nested = str(tmp_path / "nested.tar.gz")
    atomic_write(nested, bundle.bundle_bytes({"sub/clab.yml": (CLAB, 0o644)}))
    with pytest.raises(LabError, match="has no clab.yml at its root"):
        source.open_lab(nested)


def test_errors_about_a_given_clab_file_name_that_path(tmp_path):
    broken = tmp_path / "broken.clab.yml"
    broken.write_text("name: x\ntopology:\n  nodes: [r1]\n")
    with pytest.raises(LabError) as err:
        source.lab_nodes(str(broken))
    assert err.value.message.startswith(str(broken) + ":"), err.value.message


def test_a_lab_directory_gives_the_bytes_it_first_read(tmp_path, monkeypatch):
    """What was hashed is what goes into the ConfigMap, even if the file changes in between;
    past KEEP_BYTES files are read afresh (memory stays bounded)."""
    (tmp_path / "clab.yml").write_text("name: x\n")
    (tmp_path / "a.cfg").write_bytes(b"first")
    (tmp_path / "big.cfg").write_bytes(b"x" * 64)
    monkeypatch.setattr(source, "KEEP_BYTES", 32)
    with source.open_lab(str(tmp_path)) as lab:
        assert lab.read("a.cfg") == b"first" and lab.read("big.cfg") == b"x" * 64
        (tmp_path / "a.cfg").write_bytes(b"second")
        (tmp_path / "big.cfg").write_bytes(b"y" * 64)
        assert lab.read("a.cfg") == b"first"
        assert lab.read("big.cfg") == b"y" * 64
