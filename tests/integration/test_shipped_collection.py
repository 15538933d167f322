"""The collection as it ships: the artifact `ansible-galaxy collection build` makes, what
ansible-builder reads from it for an AWX execution environment, and a playbook run from the
installed artifact alone (no checkout on the path), the way an execution environment runs it."""

import json
import os
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(os.path.abspath(sys.executable))
EE_FILE = os.path.join(ROOT, "examples", "awx", "execution-environment.yml")

pytestmark = pytest.mark.slow


def requirement_lines(path):
    with open(os.path.join(ROOT, path)) as handle:
        return [line.split("#")[0].strip() for line in handle if line.split("#")[0].strip()]


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    out = tmp_path_factory.mktemp("shipped")
    proc = subprocess.run(["bash", os.path.join(ROOT, "scripts", "build-collection.sh"), str(out)],
                          capture_output=True, text=True, check=False, env=dict(os.environ, VENV=os.path.dirname(BIN)))
    assert proc.returncode == 0, proc.stderr
    tarball = proc.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
    return {"dir": str(out), "tarball": tarball, "names": names,
            "installed": os.path.join(str(out), "ansible_collections", "skyforge", "labs")}


def test_the_artifact_carries_the_collection_and_leaves_the_service_out(shipped):
    names = shipped["names"]
    modules = sorted(n for n in os.listdir(os.path.join(ROOT, "plugins", "modules")) if n.endswith(".py"))
    assert {"plugins/modules/" + m for m in modules} <= names
    assert {"meta/runtime.yml", "meta/execution-environment.yml", "requirements.txt", "bindep.txt",
            "playbooks/lab_deploy.yml", "roles/lab_render/meta/argument_specs.yml",
            "examples/frr-small/topology.yml", "MANIFEST.json", "FILES.json"} <= names
    dev_only = ("webhook", "bench", "scripts", ".venv", ".skyforge", "out", ".ci")
    leaked = sorted(n for n in names if n.split("/")[0] in dev_only or n.startswith("tests/webhook")
                    or ".egg-info" in n or "__pycache__" in n)
    assert leaked == []


def test_ansible_builder_reads_the_modules_requirements_from_the_artifact(shipped):
    proc = subprocess.run([os.path.join(BIN, "ansible-builder"), "introspect", shipped["dir"]],
                          capture_output=True, text=True, check=True)
    found = yaml.safe_load(proc.stdout.split("\n", 1)[1])   # after the "# Dependency data" line
    python = [line.split("#")[0].strip() for line in found["python"]]
    system = [line.split("#")[0].strip() for line in found["system"]]
    # ansible-builder leaves PyYAML to ansible-core, which already requires it
    assert python == [r for r in requirement_lines("requirements.txt") if not r.startswith("PyYAML")]
    assert system == requirement_lines("bindep.txt")


def test_the_awx_execution_environment_definition_makes_a_build_context(shipped, tmp_path):
    with open(EE_FILE) as handle:
        definition = yaml.safe_load(handle)
    tarball = os.path.basename(shipped["tarball"])
    assert definition["additional_build_files"][0]["src"] == tarball, \
        "examples/awx/execution-environment.yml names another collection version than galaxy.yml builds"
    shutil.copy(EE_FILE, str(tmp_path))
    shutil.copy(shipped["tarball"], str(tmp_path))
    subprocess.run([os.path.join(BIN, "ansible-builder"), "create", "--file", "execution-environment.yml",
                    "--context", "context", "--output-filename", "Containerfile"],
                   cwd=str(tmp_path), capture_output=True, text=True, check=True)
    build = tmp_path / "context" / "_build"
    assert (build / "collections" / tarball).read_bytes() == open(shipped["tarball"], "rb").read()
    requirements = yaml.safe_load((build / "requirements.yml").read_text())
    assert requirements == {"collections": [{"name": "/build/collections/" + tarball, "type": "file"}]}
    containerfile = (tmp_path / "context" / "Containerfile").read_text()
    assert "COPY _build /build" in containerfile and "collection install" in containerfile
    # the script the image build runs on the installed collections gives the same lists
    proc = subprocess.run([sys.executable, str(build / "scripts" / "introspect.py"), "introspect",
                           "--write-pip", str(tmp_path / "pip.txt"), "--write-bindep", str(tmp_path / "bindep.txt"),
                           shipped["dir"]], capture_output=True, text=True, check=True)
    pip_lines = [line.split("#")[0].strip() for line in (tmp_path / "pip.txt").read_text().splitlines()]
    assert [r for r in requirement_lines("requirements.txt") if not r.startswith("PyYAML")] == \
        [line for line in pip_lines if line]


def test_a_playbook_runs_from_the_installed_artifact_alone(shipped, tmp_path):
    """What an execution environment does: the collection comes from its collections path,
    not from a checkout, and the job is started by a program (ansible-runner), not a shell,
    in the project directory: $PWD is stale, and relative paths still mean that directory."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=shipped["dir"], ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               PWD="/runner",
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""), ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    topology = os.path.join(shipped["installed"], "examples", "frr-small", "topology.yml")
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "skyforge.labs.lab_render",
                           "-e", "topology=%s" % topology, "-e", "output_dir=lab"],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    manifests = [name for name in os.listdir(str(tmp_path / "lab")) if name.endswith(".yml")]
    assert manifests, os.listdir(str(tmp_path / "lab"))
    with open(str(tmp_path / "lab" / manifests[0])) as handle:
        kinds = [doc["kind"] for doc in yaml.safe_load_all(handle) if doc]
    assert kinds[-1] == "Topology" and "ConfigMap" in kinds
    assert ROOT not in proc.stdout   # nothing came from the checkout


def test_building_from_a_used_checkout_ships_no_dev_leftovers(tmp_path):
    """examples/awx/execution-environment.yml builds with `ansible-galaxy collection build`
    in a checkout, where `make venv` left *.egg-info and the tests left caches."""
    tree = tmp_path / "checkout"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        if os.path.isfile(os.path.join(ROOT, name)):
            os.makedirs(os.path.dirname(str(tree / name)), exist_ok=True)
            shutil.copy(os.path.join(ROOT, name), str(tree / name))
    for leftover in ("skyforge_labs_webhook.egg-info/PKG-INFO", ".pytest_cache/v/cache/nodeids",
                     "plugins/module_utils/__pycache__/names.cpython-311.pyc"):
        os.makedirs(os.path.dirname(str(tree / leftover)), exist_ok=True)
        (tree / leftover).write_text("x")
    proc = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path",
                           str(tmp_path), str(tree)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    tarball = proc.stdout.strip().rsplit(" at ", 1)[-1]
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    leaked = [n for n in names if ".egg-info" in n or "cache" in n.split("/")[0] or n.endswith(".pyc")]
    assert leaked == []
    with tarfile.open(tarball) as archive:
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    assert "example.invalid" not in json.dumps(manifest["collection_info"])
