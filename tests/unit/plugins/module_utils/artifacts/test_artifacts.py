"""The artifact store's key rules and its file:// backend, on a real directory."""

import json
import os

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.artifacts import base, store as artifacts
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError


@pytest.fixture
def store(tmp_path):
    return artifacts.open_store("file://" + str(tmp_path / "store"))


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("key, words", [
    ("", "empty"),
    ("/etc/passwd", "absolute"),
    ("lab/../../etc/passwd", "'..'"),
    ("lab/./x", "'.'"),
    ("lab//run", "empty segment"),
    ("lab/run/", "empty segment"),
    ("lab\\run", "backslash"),
    ("lab/run\nx", "non-printing character"),
    ("lab/\x00", "non-printing character"),
    ("lab/\u202etxt.exe", "non-printing character"),   # a right-to-left override shows another name
    ("lab/a\u200bb", "non-printing character"),        # zero-width space
    ("lab/ run", "white space"),
    (" ", "white space"),
    ("x" * 1100, "longer than"),
    ("lab/\udcff", "UTF-8"),
])
def test_bad_keys_are_refused_with_the_reason(key, words):
    with pytest.raises(LabError) as err:
        base.validate_key(key)
    assert words in err.value.message


def test_good_keys_pass():
    for key in ("lab", "lab/run-1/bundle.tar.gz", "a b/ü/.hidden", "lab/..x/y.."):
        assert base.validate_key(key) == key


def test_store_records_sha_size_type_metadata_and_is_idempotent(tmp_path, store):
    src = write(tmp_path / "bundle.tar.gz", b"bundle-bytes")
    first = artifacts.store_file(store, src, "lab1/run1/bundle.tar.gz", {"run": 1}, "application/gzip")
    assert first["changed"] is True
    assert first["sha256"] == base.hash_file(src)[0]
    assert first["size"] == 12
    assert first["url"] == "file://" + str(tmp_path / "store" / "objects" / "lab1" / "run1" / "bundle.tar.gz")
    sidecar = json.loads((tmp_path / "store" / "records" / "lab1" / "run1" / "bundle.tar.gz.json").read_text())
    assert sidecar["sha256"] == first["sha256"]
    assert sidecar["metadata"] == {"run": "1"}
    assert sidecar["content_type"] == "application/gzip"
    assert sidecar["stored_at"].endswith("Z")

    again = artifacts.store_file(store, src, "lab1/run1/bundle.tar.gz", {"run": 1}, "application/gzip")
    assert again["changed"] is False
    assert again["stored_at"] == first["stored_at"]

    relabel = artifacts.store_file(store, src, "lab1/run1/bundle.tar.gz", {"run": 2}, "application/gzip")
    assert relabel["changed"] is True and relabel["metadata"] == {"run": "2"}

    write(tmp_path / "bundle.tar.gz", b"new content")
    changed = artifacts.store_file(store, src, "lab1/run1/bundle.tar.gz", {"run": 2}, "application/gzip")
    assert changed["changed"] is True and changed["size"] == 11


def test_check_mode_writes_nothing(tmp_path, store):
    src = write(tmp_path / "f", b"x")
    result = artifacts.store_file(store, src, "a/b", check_mode=True)
    assert result["changed"] is True
    assert not (tmp_path / "store").exists()


def test_no_temp_files_left_and_files_are_readable(tmp_path, store):
    src = write(tmp_path / "f", b"x" * 3_000_000)
    artifacts.store_file(store, src, "lab/big")
    names = [n for dummy, dirs, files in os.walk(tmp_path / "store") for n in files]
    assert sorted(names) == ["big", "big.json"]


def test_fetch_verifies_and_is_idempotent(tmp_path, store):
    src = write(tmp_path / "f", b"hello")
    stored = artifacts.store_file(store, src, "lab/run/f")
    dest = str(tmp_path / "out" / "f")
    os.makedirs(os.path.dirname(dest))
    got = artifacts.fetch_file(store, "lab/run/f", dest, sha256=stored["sha256"])
    assert got["changed"] is True and open(dest, "rb").read() == b"hello"
    assert artifacts.fetch_file(store, "lab/run/f", dest)["changed"] is False


def test_fetch_with_wrong_expected_sha_leaves_dest_untouched(tmp_path, store):
    src = write(tmp_path / "f", b"hello")
    artifacts.store_file(store, src, "k")
    dest = write(tmp_path / "dest", b"previous")
    with pytest.raises(LabError) as err:
        artifacts.fetch_file(store, "k", dest, sha256="0" * 64)
    assert "not the expected" in err.value.message
    assert open(dest, "rb").read() == b"previous"


def test_fetch_of_corrupted_content_fails_and_leaves_dest_untouched(tmp_path, store):
    src = write(tmp_path / "f", b"hello")
    artifacts.store_file(store, src, "k")
    (tmp_path / "store" / "objects" / "k").write_bytes(b"tampered")
    dest = write(tmp_path / "dest", b"previous")
    with pytest.raises(LabError) as err:
        artifacts.fetch_file(store, "k", dest)
    assert "corrupt" in err.value.message and "untouched" in err.value.message
    assert open(dest, "rb").read() == b"previous"
    assert sorted(os.listdir(tmp_path)) == ["dest", "f", "store"]


def test_fetch_missing_key_and_bad_sha(tmp_path, store):
    with pytest.raises(LabError, match="not in store"):
        artifacts.fetch_file(store, "nope", str(tmp_path / "d"))
    with pytest.raises(LabError, match="not a sha256"):
        artifacts.fetch_file(store, "nope", str(tmp_path / "d"), sha256="abc")


def test_list_by_prefix(tmp_path, store):
    src = write(tmp_path / "f", b"1")
    for key in ("lab1/run1/a", "lab1/run2/b", "lab2/run1/c", "lab10/x"):
        artifacts.store_file(store, src, key, {"k": key})
    assert [r["key"] for r in artifacts.list_artifacts(store, "lab1/")] == ["lab1/run1/a", "lab1/run2/b"]
    assert [r["key"] for r in artifacts.list_artifacts(store, "lab1")] == ["lab1/run1/a", "lab1/run2/b", "lab10/x"]
    everything = artifacts.list_artifacts(store, "")
    assert len(everything) == 4 and everything[0]["metadata"] == {"k": "lab1/run1/a"}
    with pytest.raises(LabError, match="'..'"):
        artifacts.list_artifacts(store, "../")


def test_key_clash_between_file_and_prefix(tmp_path, store):
    src = write(tmp_path / "f", b"1")
    artifacts.store_file(store, src, "lab/run")
    with pytest.raises(LabError, match="clashes"):
        artifacts.store_file(store, src, "lab/run/file")


def test_bad_sources_and_store_urls(tmp_path, store):
    with pytest.raises(LabError, match="does not exist"):
        artifacts.store_file(store, str(tmp_path / "missing"), "k")
    with pytest.raises(LabError, match="not a regular file"):
        artifacts.store_file(store, str(tmp_path), "k")
    with pytest.raises(LabError, match="unsupported scheme"):
        artifacts.open_store("ftp://x/y")
    with pytest.raises(LabError, match="no bucket"):
        artifacts.open_store("s3:///prefix")
    with pytest.raises(LabError, match="values must be scalars"):
        artifacts.store_file(store, __file__, "k", {"a": {"b": 1}})


def test_unwritable_store_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    store = artifacts.open_store("file://" + str(blocker / "store"))
    src = write(tmp_path / "f", b"1")
    with pytest.raises(LabError) as err:
        artifacts.store_file(store, src, "k")
    assert str(blocker) in err.value.message


def test_relative_default_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = artifacts.open_store(None)
    assert store.url == "file://" + str(tmp_path / ".artifacts")
