"""Bundles: byte-identical output for identical input, and hostile archives refused."""

import gzip
import io
import os
import tarfile

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.lab import bundle, source
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.common.files import atomic_write


def write_bundle(path, files):
    return atomic_write(path, bundle.bundle_bytes(files))


FILES = {
    "clab.yml": (b"name: lab\ntopology: {nodes: {r1: {kind: linux}}}\n", 0o600),
    "node_files/r1/initial": (b"#!/bin/sh\necho hi\n", 0o700),
    "node_files/r1/blob": (bytes(range(256)), 0o644),
}


def test_same_files_give_identical_bytes_regardless_of_order_and_time(tmp_path):
    first = write_bundle(str(tmp_path / "a.tar.gz"), FILES)
    reordered = dict(reversed(list(FILES.items())))
    os.utime(str(tmp_path), (12345, 12345))
    second = write_bundle(str(tmp_path / "b.tar.gz"), reordered)
    assert first == second
    assert (tmp_path / "a.tar.gz").read_bytes() == (tmp_path / "b.tar.gz").read_bytes()


def test_archive_metadata_is_normalised(tmp_path):
    path = tmp_path / "lab.tar.gz"
    write_bundle(str(path), FILES)
    raw = path.read_bytes()
    assert raw[4:8] == b"\0\0\0\0", "gzip header mtime must be 0"
    with tarfile.open(str(path)) as archive:
        members = archive.getmembers()
    assert [m.name for m in members] == sorted(FILES)
    for member in members:
        assert (member.mtime, member.uid, member.gid, member.uname, member.gname) == (0, 0, 0, "", "")
    modes = {m.name: m.mode for m in members}
    assert modes == {"clab.yml": 0o644, "node_files/r1/blob": 0o644, "node_files/r1/initial": 0o755}


def test_read_bundle_round_trips_bytes_and_modes(tmp_path):
    path = tmp_path / "lab.tar.gz"
    write_bundle(str(path), FILES)
    read = bundle.read_bundle(str(path))
    assert read["node_files/r1/blob"] == (bytes(range(256)), 0o644)
    assert read["node_files/r1/initial"][1] == 0o755


def test_collect_tree_reads_files_and_honours_excludes(tmp_path):
    (tmp_path / "node_files" / "r1").mkdir(parents=True)
    (tmp_path / "clab.yml").write_text("name: x\n")
    (tmp_path / "netlab.snapshot.pickle").write_bytes(b"\x80random")
    script = tmp_path / "node_files" / "r1" / "initial"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o750)
    files = bundle.collect_tree(str(tmp_path), exclude=("netlab.snapshot.pickle",))
    assert sorted(files) == ["clab.yml", "node_files/r1/initial"]
    assert files["node_files/r1/initial"][1] == 0o755


def test_collect_tree_refuses_links_leaving_the_tree(tmp_path):
    lab = tmp_path / "lab"
    lab.mkdir()
    (tmp_path / "secret").write_text("x")
    (lab / "leak").symlink_to(tmp_path / "secret")
    with pytest.raises(LabError, match="leak.*outside the lab directory"):
        bundle.collect_tree(str(lab))


def _hostile(tmp_path, build):
    path = tmp_path / "evil.tar.gz"
    with tarfile.open(str(path), "w:gz") as archive:
        build(archive)
    return path


def _add(archive, name, data=b"x", kind=tarfile.REGTYPE, linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    archive.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


@pytest.mark.parametrize("name,kind,linkname,message", [
    ("/etc/passwd", tarfile.REGTYPE, "", "absolute"),
    ("../escape", tarfile.REGTYPE, "", "escapes"),
    ("node_files/../../escape", tarfile.REGTYPE, "", "escapes"),
    ("link", tarfile.SYMTYPE, "/etc/passwd", "is a link"),
    ("hard", tarfile.LNKTYPE, "clab.yml", "is a link"),
    ("dev", tarfile.CHRTYPE, "", "device"),
    ("fifo", tarfile.FIFOTYPE, "", "device"),
])
def test_hostile_members_are_refused(tmp_path, name, kind, linkname, message):
    path = _hostile(tmp_path, lambda a: (_add(a, "clab.yml"), _add(a, name, kind=kind, linkname=linkname)))
    for read in (bundle.read_bundle, source.open_lab):
        with pytest.raises(LabError, match=message) as err:
            read(str(path))
        assert repr(name) in str(err.value)


def test_truncated_and_non_gzip_files_get_a_clear_error(tmp_path):
    good = tmp_path / "good.tar.gz"
    write_bundle(str(good), FILES)
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(good.read_bytes()[:40])
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"\xff\xfe not an archive")
    for path in (truncated, garbage):
        with pytest.raises(LabError, match="not a readable .tar.gz"):
            bundle.read_bundle(str(path))


def test_missing_bundle_names_the_path(tmp_path):
    with pytest.raises(LabError, match="nope.tar.gz does not exist"):
        bundle.read_bundle(str(tmp_path / "nope.tar.gz"))


def test_oversized_member_is_refused_without_reading_it(tmp_path, monkeypatch):
    monkeypatch.setattr(bundle, "MAX_MEMBER_BYTES", 10)
    path = tmp_path / "big.tar.gz"
    write_bundle(str(path), {"big": (b"x" * 11, 0o644)})
    with pytest.raises(LabError, match="over the 10 byte limit"):
        bundle.read_bundle(str(path))


def test_gzip_stream_is_decodable_by_stdlib(tmp_path):
    data = bundle.bundle_bytes(FILES)
    assert tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))).getnames() == sorted(FILES)
