"""Bundle file set and manifest: canonical bytes, what is left out, write only on change."""

import json
import os

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.netlab import manifest as lab_bundle
from ansible_collections.skyforge.labs.plugins.module_utils.common.files import sha256_bytes
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError


def make_lab(root):
    files = {
        "clab.yml": b"name: x\n",
        "node_files/r1/initial": b"#!/bin/sh\n",
        "netlab.snapshot.pickle": b"\x80\x04random",
        "netlab.lock": b"",
        "group_vars/all/topology.json": b"{}",
        ".skyforge-generate/home/.netlab/stats.json": b"{}",
        ".skyforge-generate/workdir": b"marker",
    }
    for rel, data in files.items():
        path = os.path.join(str(root), rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
    os.chmod(os.path.join(str(root), "node_files/r1/initial"), 0o700)


def test_lab_files_leave_out_pickle_locks_and_state(tmp_path):
    make_lab(tmp_path)
    files = lab_bundle.lab_files(str(tmp_path))
    assert sorted(files) == ["clab.yml", "group_vars/all/topology.json", "node_files/r1/initial"]
    assert files["node_files/r1/initial"][1] == 0o755


def test_manifest_is_canonical_and_complete(tmp_path):
    make_lab(tmp_path)
    files = lab_bundle.lab_files(str(tmp_path))
    manifest = lab_bundle.build_manifest(files, "x", ["r2", "r1"], "26.10", "clab", "0" * 64)
    assert manifest["nodes"] == ["r1", "r2"]
    assert [f["path"] for f in manifest["files"]] == sorted(files)
    assert manifest["files"][0] == {
        "path": "clab.yml", "size": 8, "mode": "0644",
        "sha256": "%s" % sha256_bytes(b"name: x\n")}
    raw = lab_bundle.canonical_json(manifest)
    assert raw.endswith(b"}\n") and json.loads(raw) == manifest
    assert raw == lab_bundle.canonical_json(json.loads(raw))


def test_manifest_name_clash_is_an_error():
    with pytest.raises(LabError) as err:
        lab_bundle.bundle_files({"manifest.json": (b"{}", 0o644)}, {})
    assert "manifest.json" in err.value.message


@pytest.mark.parametrize("change", [
    dict(topology_bytes=b"nodes: [r1, r3]\n"), dict(provider="libvirt"),
    dict(settings={"a": 2}), dict(plugins=["multilab"]), dict(defaults_bytes=[b"x: 2\n"]),
    dict(environment={"NETLAB_DEVICE": "eos"}),
])
def test_inputs_digest_covers_every_input(change):
    base = dict(topology_bytes=b"nodes: [r1, r2]\n", provider="clab", settings={"a": 1},
                plugins=[], defaults_bytes=[b"x: 1\n"], environment={})
    assert lab_bundle.inputs_digest(**base) == lab_bundle.inputs_digest(**dict(base))
    assert lab_bundle.inputs_digest(**base) != lab_bundle.inputs_digest(**dict(base, **change))


def test_write_if_changed_leaves_identical_file_alone(tmp_path):
    path = str(tmp_path / "b.tar.gz")
    assert lab_bundle.write_if_changed(path, b"abc", check_mode=True)[0] is True
    assert not os.path.exists(path)
    changed, digest = lab_bundle.write_if_changed(path, b"abc")
    assert changed and digest == sha256_bytes(b"abc")
    before = os.stat(path)
    assert lab_bundle.write_if_changed(path, b"abc") == (False, digest)
    after = os.stat(path)
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert lab_bundle.write_if_changed(path, b"abd")[0] is True


def test_inputs_digest_covers_defaults_netlab_reads_on_its_own():
    base = dict(topology_bytes=b"x: 1\n", provider="clab", settings={}, plugins=[],
                defaults_bytes=[], environment={})
    assert lab_bundle.inputs_digest(**base) != lab_bundle.inputs_digest(
        implicit_defaults={"/lab/topology-defaults.yml": b"device: frr\n"}, **base)


def test_portable_files_rewrite_whole_workdir_and_home_paths_only():
    from ansible_collections.skyforge.labs.plugins.module_utils.netlab.manifest import portable_files
    text = (b'{"paths_custom": ["/w/lab", "/w/lab/.skyforge-generate/home/.netlab", "/w/lab2", '
            b'"/w/lab/x.yml", "/usr/share/netlab"]}')
    out = portable_files({"group_vars/all/topology.json": (text, 0o644)}, "/w/lab", "/w/lab/.skyforge-generate/home")
    assert out["group_vars/all/topology.json"] == (
        b'{"paths_custom": [".", "~/.netlab", "/w/lab2", "./x.yml", "/usr/share/netlab"]}', 0o644)
