"""deploy/kubernetes/image/build.sh --create-only: the ansible-builder build context of the
image both Deployments run (the image itself needs podman/docker and the network, which the
tests do not have). What the manifests expect from the image must be in it."""

import os
import subprocess
import sys
import zipfile

import pytest
import yaml

from tests.deploy.kustomize import ROOT, containers, kustomize, pod_spec

pytestmark = pytest.mark.slow
BUILD = os.path.join(ROOT, "deploy", "kubernetes", "image", "build.sh")


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    out = tmp_path_factory.mktemp("ee")
    proc = subprocess.run(["bash", BUILD, "registry.test/skyforge-labs-ee:test", "--create-only"],
                          env=dict(os.environ, SKYFORGE_EE_OUT=str(out), VENV=os.path.dirname(os.path.dirname(sys.executable))),
                          capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return out


def test_the_context_installs_the_collection_and_the_webhook_wheel(context):
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        version = yaml.safe_load(handle)["version"]
    build = context / "context" / "_build"
    tarball = "skyforge-labs-%s.tar.gz" % version
    assert (build / "collections" / tarball).is_file(), \
        "execution-environment.yml names another collection version than galaxy.yml builds"
    wheels = os.listdir(str(build / "wheels"))
    assert len(wheels) == 1
    containerfile = (context / "context" / "Containerfile").read_text()
    assert "pip install --no-cache-dir /build/wheels/%s" % wheels[0] in containerfile
    assert "collection install" in containerfile
    assert yaml.safe_load((build / "requirements.yml").read_text()) == {
        "collections": [{"name": "/build/collections/" + tarball, "type": "file"}]}
    # the webhook's files the service reads beside its code, and gunicorn's settings the API runs with
    names = set(zipfile.ZipFile(str(build / "wheels" / wheels[0])).namelist())
    assert {"webhook/gunicorn.conf.py", "webhook/http/openapi.yaml", "webhook/__main__.py"} <= names
    entry_points = zipfile.ZipFile(str(build / "wheels" / wheels[0])).read(
        [n for n in names if n.endswith("entry_points.txt")][0]).decode()
    assert "skyforge-webhook = webhook.__main__:main" in entry_points


def test_what_the_manifests_run_is_what_the_image_provides(context, kubectl, deploy_tree):
    containerfile = (context / "context" / "Containerfile").read_text()
    # the settings file the API command names is linked to the installed package
    assert "ln -s" in containerfile and "/opt/skyforge-webhook" in containerfile
    objects = kustomize(kubectl, deploy_tree / "base")
    for deployment in ("skyforge-webhook-api", "skyforge-webhook-worker"):
        for container in containers(pod_spec(objects, deployment)):
            command = container["command"]
            assert command[0] in ("gunicorn", "skyforge-webhook", "/bin/sh"), command
            if command[0] == "gunicorn":
                assert command[1:3] == ["-c", "/opt/skyforge-webhook/gunicorn.conf.py"]
    # the config's playbooks and files are where the collection gets installed in the image
    config = yaml.safe_load([o for o in objects if o["kind"] == "ConfigMap"][0]["data"]["config.yml"])
    prefix = "/usr/share/ansible/collections/ansible_collections/skyforge/labs/"
    assert "--collections-path \"/usr/share/ansible/collections\"" in containerfile
    for entry in config["playbooks"].values():
        for path in [entry["playbook"], entry["inventory"]] + [
                f for table in (entry.get("files") or {}).values() for f in table.values()]:
            assert path.startswith(prefix) and os.path.isfile(os.path.join(ROOT, path[len(prefix):])), path
