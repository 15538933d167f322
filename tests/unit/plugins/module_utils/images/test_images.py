"""Image references, mirror rules, remedies and runtime lookups (no network)."""

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.images import check as images
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.lab.source import LabNode
from ansible_collections.skyforge.labs.plugins.module_utils.images.registry import parse_challenge, parse_reference

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize("image, expected", [
    ("alpine", "docker.io/library/alpine:latest"),
    ("python:3.13-alpine", "docker.io/library/python:3.13-alpine"),
    ("ceos:4.34.2F", "docker.io/library/ceos:4.34.2F"),
    ("vrnetlab/cisco_n9kv:10.4.1", "docker.io/vrnetlab/cisco_n9kv:10.4.1"),
    ("quay.io/frrouting/frr:10.7.1", "quay.io/frrouting/frr:10.7.1"),
    ("localhost/lab/x", "localhost/lab/x:latest"),
    ("127.0.0.1:5000/lab/x:v1", "127.0.0.1:5000/lab/x:v1"),
    ("index.docker.io/library/debian:12", "docker.io/library/debian:12"),
    ("ghcr.io/nokia/srlinux@" + DIGEST, "ghcr.io/nokia/srlinux@" + DIGEST),
    ("ghcr.io/nokia/srlinux:25.3@" + DIGEST, "ghcr.io/nokia/srlinux:25.3@" + DIGEST),
])
def test_references_normalise_like_docker(image, expected):
    assert str(parse_reference(image)) == expected


def test_docker_hub_api_host_and_manifest_ref():
    ref = parse_reference("alpine@" + DIGEST)
    assert ref.api_host == "registry-1.docker.io" and ref.manifest_ref == DIGEST


@pytest.mark.parametrize("image, words", [
    ("", "empty"),
    ("Alpine:3", "invalid repository"),
    ("alpine:bad tag", "invalid tag"),
    ("alpine@sha256:xyz", "invalid digest"),
    ("quay.io/UPPER/x", "invalid repository"),
])
def test_bad_references(image, words):
    with pytest.raises(LabError) as err:
        parse_reference(image)
    assert words in err.value.message


def test_mirrors_match_written_then_normalised_form():
    rules = images.validate_mirrors([{"from": "quay.io/frrouting/", "to": "mirror:5000/frr/"},
                                     {"from": "docker.io/", "to": "mirror:5000/hub/"}])
    assert images.apply_mirrors("quay.io/frrouting/frr:10.7.1", rules)[0] == "mirror:5000/frr/frr:10.7.1"
    assert images.apply_mirrors("alpine:3", rules)[0] == "mirror:5000/hub/library/alpine:3"
    assert images.apply_mirrors("ghcr.io/x/y:1", rules) == ("ghcr.io/x/y:1", None)
    with pytest.raises(LabError, match=r"mirrors\[0\]"):
        images.validate_mirrors([{"from": "docker.io/"}])


def test_remedies_fit_the_image():
    ceos = images.remedy_for("ceos:4.34.2F", parse_reference("ceos:4.34.2F"), "missing", "404", None, [])
    assert "docker image import cEOS64-lab-4.34.2F.tar ceos:4.34.2F" in ceos
    vr = images.remedy_for("vrnetlab/cisco_n9kv:10.4.1", parse_reference("vrnetlab/cisco_n9kv:10.4.1"),
                           "missing", "404", None, [])
    assert "vendor" in vr and "make" in vr
    other = images.remedy_for("ghcr.io/x/y:1", parse_reference("ghcr.io/x/y:1"), "missing", "404", None, [])
    assert "mirror rule {from: 'ghcr.io/'" in other
    auth = images.remedy_for("ghcr.io/x/y:1", parse_reference("ghcr.io/x/y:1"), "unauthorized", "401", None, [])
    assert "registries" in auth and "ghcr.io" in auth


def test_images_from_nodes_keeps_first_use_order():
    nodes = [LabNode("r1", "linux", "frr:1", []), LabNode("r2", "ceos", "ceos:4", []),
             LabNode("r3", "linux", "frr:1", []), LabNode("b", "bridge", None, [])]
    assert images.images_from_nodes(nodes) == (["frr:1", "ceos:4"], {"frr:1": ["r1", "r3"], "ceos:4": ["r2"]})


def test_challenge_parsing():
    assert parse_challenge('Bearer realm="https://auth/token",service="reg",scope="repository:a/b:pull"') == (
        "bearer", {"realm": "https://auth/token", "service": "reg", "scope": "repository:a/b:pull"})
    assert parse_challenge('Basic realm="x"') == ("basic", {"realm": "x"})
    assert parse_challenge(None) == (None, {})


class NoRegistry(object):
    def check(self, ref):
        raise AssertionError("the registry must not be asked when the runtime has the image")


def test_runtime_hit_skips_the_registry(monkeypatch):
    monkeypatch.setattr(images.shutil, "which", lambda name: "/usr/bin/" + name)
    seen = []

    def run(argv):
        seen.append(argv)
        return 0, "sha256:abc\n", ""

    results, missing = images.check_images(["ceos:4.34.2F"], runtime="docker", client=NoRegistry(), run=run)
    assert missing == [] and results[0]["source"] == "docker" and results[0]["digest"] == "sha256:abc"
    assert seen == [["docker", "image", "inspect", "--format", "{{.Id}}", "docker.io/library/ceos:4.34.2F"]]


def test_runtime_binary_missing_is_reported(monkeypatch):
    monkeypatch.setattr(images.shutil, "which", lambda name: None)

    class Missing(object):
        def check(self, ref):
            from ansible_collections.skyforge.labs.plugins.module_utils.images.registry import Outcome
            return Outcome("missing", error="no manifest (HTTP 404)", http_status=404)

    results, missing = images.check_images(["ceos:4.34.2F"], runtime="containerd", client=Missing())
    assert missing == ["ceos:4.34.2F"]
    assert "ctr is not installed" in results[0]["error"] and "HTTP 404" in results[0]["error"]


def test_bad_runtime_and_registry_lists():
    with pytest.raises(LabError, match="runtime"):
        images.check_images(["a"], runtime="lxc")
    with pytest.raises(LabError, match="listed twice"):
        images.registries_by_host([{"host": "a"}, {"host": "a"}])
