"""Whole-or-nothing writes: the target holds the old or the complete new content."""

import os
import stat

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.common import files
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError


def test_atomic_write_leaves_old_content_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "file"
    target.write_bytes(b"old")

    def boom(*_):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        files.atomic_write(str(target), b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(str(tmp_path)) == ["file"]


def test_content_is_fsynced_before_the_rename(tmp_path, monkeypatch):
    order = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (order.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (order.append("replace"), real_replace(a, b))[1])
    digest = files.atomic_write(str(tmp_path / "sub" / "f"), b"data", mode=0o600)
    # the file's fsync, the rename, then the directory's fsync
    assert order == ["fsync", "replace", "fsync"]
    assert digest == files.sha256_bytes(b"data") == files.sha256_file(str(tmp_path / "sub" / "f"))
    assert stat.S_IMODE(os.stat(str(tmp_path / "sub" / "f")).st_mode) == 0o600


def test_an_error_inside_the_context_or_discard_keeps_the_target(tmp_path):
    target = tmp_path / "f"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with files.AtomicFile(str(target)) as out:
            out.write(b"half")
            raise RuntimeError("stop")
    with files.AtomicFile(str(target)) as out:
        out.write(b"same")
        out.discard()
    assert target.read_bytes() == b"old"
    assert os.listdir(str(tmp_path)) == ["f"]


def test_unwritable_directory_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LabError, match="cannot write into"):
        files.atomic_write(str(blocker / "child"), b"x")
