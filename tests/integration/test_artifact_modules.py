"""artifact_store / artifact_fetch / artifact_info as a playbook runs them."""

import os

import pytest

from tests.servers.playbook import run_playbook

pytestmark = pytest.mark.slow


def play(tasks):
    return [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def test_store_fetch_info_check_mode_and_errors(tmp_path):
    store = "file://" + str(tmp_path / "store")
    src = tmp_path / "report.txt"
    src.write_text("run report\n")
    dest = tmp_path / "out" / "report.txt"
    dest.parent.mkdir()
    common = {"store": store}
    rc, results, dummy = run_playbook(tmp_path / "run", play([
        {"name": "dry store", "check_mode": True,
         "skyforge.labs.artifact_store": dict(common, src=str(src), key="lab1/run1/report.txt")},
        {"name": "store", "register": "stored",
         "skyforge.labs.artifact_store": dict(common, src=str(src), key="lab1/run1/report.txt",
                                              content_type="text/plain", metadata={"by": "test"})},
        {"name": "store again",
         "skyforge.labs.artifact_store": dict(common, src=str(src), key="lab1/run1/report.txt",
                                              content_type="text/plain", metadata={"by": "test"})},
        {"name": "fetch", "skyforge.labs.artifact_fetch": dict(common, key="lab1/run1/report.txt", dest=str(dest),
                                                               sha256="{{ stored.sha256 }}")},
        {"name": "fetch again", "skyforge.labs.artifact_fetch": dict(common, key="lab1/run1/report.txt",
                                                                     dest=str(dest))},
        {"name": "info", "skyforge.labs.artifact_info": dict(common, prefix="lab1/")},
        {"name": "fetch with the wrong sha", "skyforge.labs.artifact_fetch": dict(
            common, key="lab1/run1/report.txt", dest=str(dest), sha256="f" * 64)},
    ]))
    assert rc == 2
    assert results["dry store"]["changed"] is True and results["dry store"]["stored_at"] is None
    assert results["store"]["changed"] is True and results["store"]["size"] == 11
    assert results["store again"]["changed"] is False
    assert results["fetch"]["changed"] is True and dest.read_text() == "run report\n"
    assert results["fetch again"]["changed"] is False
    [listed] = results["info"]["artifacts"]
    assert listed["key"] == "lab1/run1/report.txt" and listed["metadata"] == {"by": "test"}
    assert listed["sha256"] == results["store"]["sha256"]
    wrong = results["fetch with the wrong sha"]
    assert wrong["_event"] == "runner_on_failed" and "not the expected" in wrong["msg"]
    assert dest.read_text() == "run report\n"
    assert sorted(os.listdir(dest.parent)) == ["report.txt"]


def test_unreachable_s3_store_fails_cleanly(tmp_path):
    src = tmp_path / "f"
    src.write_text("x")
    rc, results, dummy = run_playbook(tmp_path / "run", play([
        {"name": "store", "skyforge.labs.artifact_store": {
            "store": "s3://bucket/prefix", "endpoint_url": "http://127.0.0.1:9", "access_key": "AKIATESTKEY0001",
            "secret_key": "s3cr3t-value", "src": str(src), "key": "k"}},
    ]))
    assert rc == 2
    failed = results["store"]
    assert "unreachable" in failed["msg"] and "endpoint http://127.0.0.1:9" in failed["msg"]
    assert "s3cr3t-value" not in repr(results)
