"""image_check runtime: containerd and docker, against real daemons (Debian's packages)."""

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.images.check import check_images
from tests.servers.runtimes import Containerd, Dockerd, require_runtime
from tests.servers.playbook import run_playbook

pytestmark = pytest.mark.slow
HELLO = "127.0.0.1:5999/lab/hello"   # no registry listens there: only the runtime can answer


class NoRegistry(object):
    def check(self, ref):
        raise AssertionError("the registry must not be asked when containerd has %s" % ref)


class Unreachable(object):
    def check(self, ref):
        from ansible_collections.skyforge.labs.plugins.module_utils.images.registry import Outcome
        return Outcome("unreachable", error="connection refused")


@pytest.fixture(scope="module")
def containerd():
    require_runtime("containerd", "ctr", "containerd")
    with Containerd() as daemon:
        daemon.digest = daemon.import_image(HELLO, "v1")
        daemon.import_image("docker.io/library/alpine", "3.22", payload=b"alpine\n")
        yield daemon


@pytest.fixture(scope="module")
def dockerd():
    require_runtime("dockerd", "docker", "docker.io")
    with Dockerd() as daemon:
        daemon.image_id = daemon.import_rootfs("ceos:4.34.2F")
        yield daemon


def use(daemon, monkeypatch):
    for key, value in daemon.env.items():
        monkeypatch.setenv(key, value)
    return daemon


@pytest.fixture
def runtime_env(containerd, monkeypatch):
    return use(containerd, monkeypatch)


def test_an_imported_image_is_available_with_its_manifest_digest(runtime_env):
    results, missing = check_images([HELLO + ":v1"], runtime="containerd", client=NoRegistry())
    assert missing == []
    assert results[0]["source"] == "containerd" and results[0]["digest"] == runtime_env.digest


def test_docker_hub_short_names_and_digest_references_match(runtime_env):
    results, missing = check_images(["alpine:3.22", "%s@%s" % (HELLO, runtime_env.digest)],
                                    runtime="containerd", client=NoRegistry())
    assert missing == [] and [r["source"] for r in results] == ["containerd", "containerd"]
    assert results[0]["resolved"] == "docker.io/library/alpine:3.22"


def test_an_absent_image_falls_through_to_the_registry(runtime_env):
    results, missing = check_images([HELLO + ":v2", "alpine:3.21"], runtime="containerd",
                                    client=Unreachable())
    assert missing == [HELLO + ":v2", "alpine:3.21"]
    assert all(r["error"] == "connection refused" for r in results)   # containerd said "absent", not an error


def test_another_namespace_does_not_see_the_kubelets_images(runtime_env, monkeypatch):
    monkeypatch.setenv("CONTAINERD_NAMESPACE", "default")
    results, missing = check_images([HELLO + ":v1"], runtime="containerd", client=Unreachable())
    assert missing == [HELLO + ":v1"]


def test_an_unreachable_daemon_is_named_in_the_error(runtime_env, monkeypatch, tmp_path):
    monkeypatch.setenv("CONTAINERD_ADDRESS", str(tmp_path / "no.sock"))
    results, missing = check_images([HELLO + ":v1"], runtime="containerd", client=Unreachable())
    assert missing == [HELLO + ":v1"]
    assert "ctr images list failed" in results[0]["error"] and "no.sock" in results[0]["error"]


def test_module_in_a_playbook_reaches_containerd_through_the_task_environment(tmp_path, containerd):
    rc, results, dummy = run_playbook(tmp_path, [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "present", "environment": containerd.env,
         "skyforge.labs.image_check": {"images": [HELLO + ":v1"], "runtime": "containerd"}},
        {"name": "absent", "environment": containerd.env, "ignore_errors": True,
         "skyforge.labs.image_check": {"images": [HELLO + ":v9"], "runtime": "containerd",
                                       "timeout": 2}},
    ]}])
    present, absent = results["present"], results["absent"]
    assert rc == 0, results
    assert present["changed"] is False and present["images"][0]["source"] == "containerd"
    assert present["images"][0]["digest"] == containerd.digest
    # not in containerd, and no registry answers for it: "could not check", which fails too
    assert absent["_event"] == "runner_on_failed" and absent["missing"] == []
    assert absent["unchecked"] == [HELLO + ":v9"] and absent["images"][0]["status"] == "unchecked"


def test_docker_finds_a_hand_imported_ceos_image_by_its_short_name(dockerd, monkeypatch):
    use(dockerd, monkeypatch)
    results, missing = check_images(["ceos:4.34.2F"], runtime="docker", client=NoRegistry())
    assert missing == [] and results[0]["source"] == "docker"
    assert results[0]["digest"] == dockerd.image_id


def test_docker_absent_image_falls_through_and_keeps_the_ceos_remedy(dockerd, monkeypatch):
    use(dockerd, monkeypatch)
    results, missing = check_images(["ceos:4.35.0F"], runtime="docker", client=Unreachable())
    assert missing == ["ceos:4.35.0F"] and results[0]["error"] == "connection refused"
    assert "docker image import cEOS64-lab-4.35.0F.tar ceos:4.35.0F" in results[0]["remedy"]


def test_docker_unreachable_daemon_is_an_error_not_absent(dockerd, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", "unix://%s" % (tmp_path / "no.sock"))
    results, missing = check_images(["ceos:4.34.2F"], runtime="docker", client=Unreachable())
    assert missing == ["ceos:4.34.2F"]
    assert "docker image inspect failed" in results[0]["error"] and "no.sock" in results[0]["error"]
