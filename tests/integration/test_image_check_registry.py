"""image_check against Debian's real docker-registry: open, htpasswd and JWT token auth."""

import json
import os
import socket
import time

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.images.check import check_images, run_image_check
from ansible_collections.skyforge.labs.plugins.module_utils.images.registry import RegistryClient, parse_reference
from tests.servers.playbook import run_playbook
from tests.servers.registry import Registry, require_registry_tools

pytestmark = pytest.mark.slow
GOOD = {"username": "alice", "password": "wonderland"}


@pytest.fixture(scope="module", autouse=True)
def tools():
    require_registry_tools()


def serve(tmp_path_factory, auth):
    reg = Registry(str(tmp_path_factory.mktemp("registry-%s" % auth)), auth=auth)
    reg.__enter__()
    reg.digest = reg.push("lab/hello", "v1")
    return reg


@pytest.fixture(scope="module")
def open_registry(tmp_path_factory):
    reg = serve(tmp_path_factory, None)
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def basic_registry(tmp_path_factory):
    reg = serve(tmp_path_factory, "htpasswd")
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory):
    reg = serve(tmp_path_factory, "token")
    yield reg
    reg.stop()


def check(reg, image, **creds):
    results, missing = check_images([image], {reg.host: dict(creds, insecure=True)}, timeout=5)
    return results[0]


def test_available_image_reports_the_pushed_digest(open_registry):
    result = check(open_registry, open_registry.host + "/lab/hello:v1")
    assert result["available"] is True
    assert result["digest"] == open_registry.digest
    assert result["source"] == "registry" and result["remedy"] is None
    by_digest = check(open_registry, open_registry.host + "/lab/hello@" + open_registry.digest)
    assert by_digest["available"] is True


def test_missing_tag_and_repository_are_404_with_a_remedy(open_registry):
    for image in ("lab/hello:v2", "lab/nope:v1"):
        result = check(open_registry, open_registry.host + "/" + image)
        assert result["available"] is False
        assert "HTTP 404" in result["error"]
        assert "check the name and tag" in result["remedy"]


def test_basic_auth(basic_registry):
    image = basic_registry.host + "/lab/hello:v1"
    anonymous = check(basic_registry, image)
    assert anonymous["available"] is False and "username and password" in anonymous["error"]
    assert "registries" in anonymous["remedy"]
    assert check(basic_registry, image, **GOOD)["digest"] == basic_registry.digest
    wrong = check(basic_registry, image, username="alice", password="nope")
    assert wrong["available"] is False and "rejected the credentials" in wrong["error"]


def test_bearer_challenge_gets_a_token_the_registry_accepts(token_registry):
    image = token_registry.host + "/lab/hello:v1"
    token_registry.issuer.requests[:] = []
    result = check(token_registry, image, **GOOD)
    assert result["available"] is True and result["digest"] == token_registry.digest
    [asked] = token_registry.issuer.requests
    assert asked["query"]["scope"] == ["repository:lab/hello:pull"]
    assert asked["query"]["service"] == [token_registry.issuer.service]
    assert asked["auth"] is True


def test_bearer_without_or_with_bad_credentials(token_registry):
    image = token_registry.host + "/lab/hello:v1"
    anonymous = check(token_registry, image)
    assert anonymous["available"] is False and "refused anonymous access" in anonymous["error"]
    bad = check(token_registry, image, username="alice", password="nope")
    assert bad["available"] is False and "token service" in bad["error"] and "HTTP 401" in bad["error"]


def test_a_given_token_is_used_as_is(token_registry):
    token = token_registry.issuer.sign("alice", [{"type": "repository", "name": "lab/hello", "actions": ["pull"]}])
    assert check(token_registry, token_registry.host + "/lab/hello:v1", token=token)["available"] is True
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert check(token_registry, token_registry.host + "/lab/hello:v1", token=forged)["available"] is False


def test_mirror_rewrites_docker_hub_names(open_registry):
    mirrors = [{"from": "docker.io/", "to": open_registry.host + "/"}]
    results, missing = check_images(["lab/hello:v1", "docker.io/lab/hello:v1", "lab/absent:v1"],
                                    {open_registry.host: {"insecure": True}}, mirrors, timeout=5)
    assert [r["available"] for r in results] == [True, True, False]
    assert results[0]["resolved"] == open_registry.host + "/lab/hello:v1"
    assert results[0]["mirror"] == open_registry.host + "/"
    assert missing == ["lab/absent:v1"]
    assert "mirror" in results[2]["remedy"] and "does not have it" in results[2]["remedy"]


def test_registry_500_is_an_error_not_missing(tmp_path_factory):
    reg = serve(tmp_path_factory, None)
    try:
        link = reg.storage_path("repositories", "lab", "hello", "_manifests", "tags", "v1", "current", "link")
        os.unlink(link)
        os.mkdir(link)  # the registry's storage now fails to read the tag: HTTP 500
        result = check(reg, reg.host + "/lab/hello:v1")
        assert result["available"] is False and "HTTP 500" in result["error"]
        assert "could not be checked" in result["remedy"]
    finally:
        reg.stop()


def test_stopped_registry_is_unreachable(tmp_path_factory):
    reg = serve(tmp_path_factory, None)
    reg.stop()
    result = check(reg, reg.host + "/lab/hello:v1")
    assert result["available"] is False and "cannot reach" in result["error"]


def test_a_registry_that_never_answers_times_out():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        host = "127.0.0.1:%d" % silent.getsockname()[1]
        started = time.monotonic()
        client = RegistryClient({host: {"insecure": True}}, timeout=1.0)
        outcome = client.check(parse_reference(host + "/lab/hello:v1"))
        assert outcome.status == "error" and "did not answer within 1.0s" in outcome.error
        assert time.monotonic() - started < 10


def test_topology_images_and_the_module_failure_message(tmp_path, open_registry):
    clab = tmp_path / "clab.yml"
    clab.write_text(
        "name: t\ntopology:\n"
        "  kinds:\n    linux: {image: %s/lab/hello:v1}\n"
        "  nodes:\n    h1: {kind: linux}\n    h2: {kind: linux}\n"
        "    r1: {kind: ceos, image: ceos:4.34.2F}\n"
        "    v1: {kind: cisco_n9kv, image: vrnetlab/cisco_n9kv:10.4.1}\n" % open_registry.host)
    out = run_image_check({"topology": str(clab), "registries": [{"host": open_registry.host, "insecure": True}],
                           "mirrors": [{"from": "docker.io/", "to": open_registry.host + "/"}], "timeout": 5})
    assert [i["image"] for i in out["images"]] == [open_registry.host + "/lab/hello:v1", "ceos:4.34.2F",
                                                   "vrnetlab/cisco_n9kv:10.4.1"]
    assert out["images"][0]["nodes"] == ["h1", "h2"]
    assert out["missing"] == ["ceos:4.34.2F", "vrnetlab/cisco_n9kv:10.4.1"]
    assert "docker image import cEOS64-lab-4.34.2F.tar ceos:4.34.2F" in out["message"]
    assert "vrnetlab" in out["message"] and "make" in out["message"]
    assert out["summary"] == "3 images: 1 available, 2 missing (ceos:4.34.2F, vrnetlab/cisco_n9kv:10.4.1)"


def test_module_in_a_playbook(tmp_path, basic_registry):
    registries = [{"host": basic_registry.host, "insecure": True, "username": "alice", "password": "wonderland"}]
    rc, results, dummy = run_playbook(tmp_path, [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "ok", "skyforge.labs.image_check": {"images": [basic_registry.host + "/lab/hello:v1"],
                                                     "registries": registries}},
        {"name": "missing", "skyforge.labs.image_check": {"images": [basic_registry.host + "/lab/gone:v1"],
                                                          "registries": registries}},
    ]}])
    ok, failed = results["ok"], results["missing"]
    assert rc == 2
    assert ok["changed"] is False and ok["images"][0]["digest"] == basic_registry.digest
    assert failed["_event"] == "runner_on_failed" and "lab/gone:v1" in failed["msg"] and "HTTP 404" in failed["msg"]
    assert "wonderland" not in json.dumps([ok, failed])


def test_offline_is_could_not_check_and_keeps_the_import_remedy(monkeypatch, open_registry):
    """No network: every registry is behind a proxy that refuses connections. Nothing is
    reported missing, the unreachable images are `unchecked`, and cEOS/vrnetlab still get
    their import/build remedy; the module fails under fail_on_missing and says why."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = "http://127.0.0.1:%d" % closed.getsockname()[1]
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, dead)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.delenv("NO_PROXY", raising=False)
    images = ["ceos:4.34.2F", "vrnetlab/cisco_n9kv:10.4.1", "quay.io/frrouting/frr:10.7.1",
              open_registry.host + "/lab/absent:v1"]
    out = run_image_check({"images": images, "registries": [{"host": open_registry.host, "insecure": True}],
                           "timeout": 5})
    states = dict((i["image"], i["status"]) for i in out["images"])
    assert states == {"ceos:4.34.2F": "unchecked", "vrnetlab/cisco_n9kv:10.4.1": "unchecked",
                      "quay.io/frrouting/frr:10.7.1": "unchecked", open_registry.host + "/lab/absent:v1": "missing"}
    assert out["missing"] == [open_registry.host + "/lab/absent:v1"]
    assert out["unchecked"] == images[:3]
    remedies = dict((i["image"], i["remedy"]) for i in out["images"])
    assert "docker image import cEOS64-lab-4.34.2F.tar ceos:4.34.2F" in remedies["ceos:4.34.2F"]
    assert "run 'make' to build" in remedies["vrnetlab/cisco_n9kv:10.4.1"]
    assert "could not be checked" in remedies["quay.io/frrouting/frr:10.7.1"]
    assert out["summary"] == ("4 images: 0 available, 1 missing (%s/lab/absent:v1), 3 could not be checked "
                              "(ceos:4.34.2F, vrnetlab/cisco_n9kv:10.4.1, quay.io/frrouting/frr:10.7.1)"
                              % open_registry.host)
    assert "- ceos:4.34.2F (could not check): " in out["message"]
