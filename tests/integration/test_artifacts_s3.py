"""The s3:// artifact backend against a real S3 server (versitygw, built from Go modules)."""

import os
import socket

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.artifacts import base, store as artifacts
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from tests.servers.s3 import S3Server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with S3Server(str(tmp_path_factory.mktemp("s3")), buckets=("artifacts",)) as srv:
        yield srv


@pytest.fixture
def store(server, request):
    return artifacts.open_store("s3://artifacts/runs/" + request.node.name, **server.options())


def write(path, data):
    path.write_bytes(data)
    return str(path)


def test_store_fetch_roundtrip_records_sha_in_object_metadata(tmp_path, server, store):
    src = write(tmp_path / "bundle", b"abc" * 1000)
    stored = artifacts.store_file(store, src, "lab/run1/bundle.tar.gz", {"lab": "lab", "run": 1}, "application/gzip")
    assert stored["changed"] is True
    assert stored["url"].startswith("s3://artifacts/runs/")
    head = server.client().head_object(Bucket="artifacts", Key=stored["url"][len("s3://artifacts/"):])
    assert head["Metadata"]["sha256"] == stored["sha256"]
    assert head["ContentType"] == "application/gzip"
    assert artifacts.store_file(store, src, "lab/run1/bundle.tar.gz", {"lab": "lab", "run": 1},
                                "application/gzip")["changed"] is False
    dest = str(tmp_path / "fetched")
    fetched = artifacts.fetch_file(store, "lab/run1/bundle.tar.gz", dest, sha256=stored["sha256"])
    assert fetched["changed"] is True and open(dest, "rb").read() == b"abc" * 1000
    assert artifacts.fetch_file(store, "lab/run1/bundle.tar.gz", dest)["changed"] is False


def test_metadata_change_only_rewrites_the_record(tmp_path, store):
    src = write(tmp_path / "f", b"same")
    artifacts.store_file(store, src, "k", {"a": "1"})
    updated = artifacts.store_file(store, src, "k", {"a": "2"}, "text/plain")
    assert updated["changed"] is True
    [listed] = artifacts.list_artifacts(store, "k")
    assert listed["metadata"] == {"a": "2"} and listed["content_type"] == "text/plain"


def test_multipart_upload_and_download(tmp_path, store):
    # Above the multipart threshold: several parts in flight, then verified on the way back.
    data = os.urandom(1024 * 1024) * 40
    src = write(tmp_path / "big", data)
    stored = artifacts.store_file(store, src, "lab/big")
    dest = str(tmp_path / "big.out")
    artifacts.fetch_file(store, "lab/big", dest, sha256=stored["sha256"])
    assert base.hash_file(dest) == (stored["sha256"], len(data))


def test_tampered_object_fails_fetch_and_leaves_dest(tmp_path, server, store):
    src = write(tmp_path / "f", b"original")
    stored = artifacts.store_file(store, src, "k")
    object_key = stored["url"][len("s3://artifacts/"):]
    client = server.client()
    # Replace the content but keep the old record, as a buggy writer or bit rot would.
    client.put_object(Bucket="artifacts", Key=object_key, Body=b"tampered",
                      Metadata={"sha256": stored["sha256"]})
    dest = write(tmp_path / "dest", b"previous")
    with pytest.raises(LabError) as err:
        artifacts.fetch_file(store, "k", dest)
    assert "corrupt" in err.value.message
    assert open(dest, "rb").read() == b"previous"
    assert sorted(os.listdir(tmp_path)) == ["dest", "f"]


def test_list_by_prefix(tmp_path, store):
    src = write(tmp_path / "f", b"x")
    for key in ("lab1/a", "lab1/b", "lab2/c"):
        artifacts.store_file(store, src, key, {"key": key})
    listed = artifacts.list_artifacts(store, "lab1/")
    assert [r["key"] for r in listed] == ["lab1/a", "lab1/b"]
    assert listed[0]["sha256"] == base.hash_file(src)[0] and listed[0]["size"] == 1
    assert listed[0]["stored_at"]


def test_missing_bucket_bad_credentials_and_unreachable_store(tmp_path, server):
    src = write(tmp_path / "f", b"x")
    missing = artifacts.open_store("s3://no-such-bucket/p", **server.options())
    with pytest.raises(LabError, match="bucket no-such-bucket does not exist"):
        artifacts.store_file(missing, src, "k")
    bad = artifacts.open_store("s3://artifacts", **dict(server.options(), secret_key="wrong"))
    with pytest.raises(LabError, match="access denied"):
        artifacts.store_file(bad, src, "k")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    down = artifacts.open_store("s3://artifacts", **dict(server.options(), endpoint_url="http://127.0.0.1:%d" % port))
    with pytest.raises(LabError, match="unreachable"):
        artifacts.store_file(down, src, "k")
    dest = tmp_path / "never"
    with pytest.raises(LabError, match="unreachable"):
        artifacts.fetch_file(down, "k", str(dest))
    assert not dest.exists()


def test_oversized_metadata_is_refused_before_upload(tmp_path, store):
    src = write(tmp_path / "f", b"x")
    with pytest.raises(LabError, match="2 KiB"):
        artifacts.store_file(store, src, "k", {"blob": "y" * 3000})
    assert artifacts.list_artifacts(store, "k") == []


def test_parallel_upload_records_the_sha_it_computed_and_leaves_no_parts(tmp_path, server, store, monkeypatch):
    """Above one part: parts go up in parallel while the file is hashed; the record is
    written after the content, and a failed part aborts the upload with the old object kept."""
    from ansible_collections.skyforge.labs.plugins.module_utils.artifacts import s3_transfer as transfer
    monkeypatch.setattr(transfer, "PART_SIZE", 5 * 1024 * 1024)      # S3's smallest part
    data = os.urandom(1024 * 1024) * 17 + b"tail"
    src = write(tmp_path / "big", data)
    stored = artifacts.store_file(store, src, "lab/parts", {"run": 7}, "application/gzip")
    assert stored["sha256"] == artifacts.hash_file(src)[0]
    client = server.client()
    object_key = stored["url"][len("s3://artifacts/"):]
    head = client.head_object(Bucket="artifacts", Key=object_key)
    assert head["Metadata"]["sha256"] == stored["sha256"] and head["ContentType"] == "application/gzip"
    assert head["ContentLength"] == len(data)
    assert not client.list_multipart_uploads(Bucket="artifacts").get("Uploads")

    other = write(tmp_path / "other", os.urandom(1024 * 1024) * 11)
    real = store.client.upload_part

    def failing(**kwargs):
        if kwargs["PartNumber"] == 2:
            raise OSError("disk on fire")
        return real(**kwargs)
    monkeypatch.setattr(store.client, "upload_part", failing)
    with pytest.raises(OSError, match="disk on fire"):
        artifacts.store_file(store, other, "lab/parts")
    assert not client.list_multipart_uploads(Bucket="artifacts").get("Uploads")
    dest = str(tmp_path / "fetched")
    assert artifacts.fetch_file(store, "lab/parts", dest, sha256=stored["sha256"])["changed"] is True
    assert open(dest, "rb").read() == data


def test_record_waits_for_the_completed_object_and_never_lands_on_another(tmp_path, server, store, monkeypatch):
    """The record goes onto the object the upload completed (its ETag), once it is there:
    a copy that finds no object yet is tried again; if another object sits under the key,
    the store fails after its timeout and that object gets no record."""
    from botocore.exceptions import ClientError
    from ansible_collections.skyforge.labs.plugins.module_utils.artifacts import s3_transfer as transfer
    monkeypatch.setattr(transfer, "PART_SIZE", 5 * 1024 * 1024)
    data = os.urandom(1024 * 1024) * 11
    src = write(tmp_path / "big", data)
    real_copy = store.client.copy_object
    calls = []

    def not_there_yet(**kwargs):
        calls.append(kwargs.get("CopySourceIfMatch"))
        if len(calls) == 1:     # what versitygw answered while a retried completion was still running
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "The specified key does not exist."}},
                              "CopyObject")
        return real_copy(**kwargs)
    monkeypatch.setattr(store.client, "copy_object", not_there_yet)
    stored = artifacts.store_file(store, src, "lab/late")
    assert len(calls) == 2 and calls[0] and calls[0] == calls[1]
    assert server.client().head_object(Bucket="artifacts", Key=stored["url"][len("s3://artifacts/"):])[
        "Metadata"]["sha256"] == stored["sha256"]
    assert artifacts.fetch_file(store, "lab/late", str(tmp_path / "late"))["changed"] is True

    client = server.client()
    object_key = stored["url"][len("s3://artifacts/"):] + "-new"    # a new key: no hash first, the record by copy
    real_complete = store.client.complete_multipart_upload

    def replaced_meanwhile(**kwargs):
        answer = real_complete(**kwargs)
        client.put_object(Bucket="artifacts", Key=object_key, Body=b"someone else's")
        return answer
    monkeypatch.setattr(store.client, "copy_object", real_copy)
    monkeypatch.setattr(store.client, "complete_multipart_upload", replaced_meanwhile)
    monkeypatch.setattr(transfer, "RECORD_TIMEOUT", 1)
    with pytest.raises(LabError, match="still shows another object"):
        artifacts.store_file(store, write(tmp_path / "new", os.urandom(1024 * 1024) * 11), "lab/late-new")
    assert "sha256" not in client.head_object(Bucket="artifacts", Key=object_key)["Metadata"]


def test_object_without_a_recorded_sha_is_refused(tmp_path, server, store):
    # What a reader sees between the last part and the record, or after an interrupted store.
    stored = artifacts.store_file(store, write(tmp_path / "f", b"x"), "k")
    server.client().put_object(Bucket="artifacts", Key=stored["url"][len("s3://artifacts/"):], Body=b"new")
    with pytest.raises(LabError, match="no sha256 recorded"):
        artifacts.fetch_file(store, "k", str(tmp_path / "dest"))
    assert not os.path.exists(str(tmp_path / "dest"))
