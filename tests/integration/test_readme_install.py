"""The README's "Using the collection" commands, verbatim, on a fresh copy of the checkout as
a new user runs them: each install way, then the render command; and the deploy and destroy
commands against the real API server and Clabernetes v0.8 controller (c9s.run, the
playbooks' default), found through the new user's ~/.kube/config."""

import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
pytestmark = pytest.mark.slow


def readme_block():
    with open(os.path.join(ROOT, "README.md")) as handle:
        text = handle.read()
    section = text[text.index("## Using the collection"):]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1).splitlines()


def install_ways(lines):
    """The first line, and the alternative the comment under it gives."""
    alternative = [line.lstrip("#").strip() for line in lines[1:] if line.startswith("#   ")]
    assert len(alternative) == 1, lines
    return [lines[0], alternative[0]]


def fresh_copy(dest):
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        src = os.path.join(ROOT, name)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(dest, name)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, name))


def user_env(home):
    env = dict((k, v) for k, v in os.environ.items()
               if not k.startswith(("ANSIBLE_", "VIRTUAL_ENV", "PYTHON")))
    venv_bin = os.path.dirname(sys.executable)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR") or os.path.expanduser("~/.cache/pip")
    env["HOME"] = home
    return env


@pytest.mark.parametrize("way", [0, 1], ids=["make", "pip+galaxy"])
def test_using_the_collection_commands_work_verbatim(tmp_path, way):
    lines = readme_block()
    install = install_ways(lines)[way]
    commands = [line for line in lines[1:] if line.strip() and not line.startswith("#")]
    render = [line for line in commands if "playbooks/lab_render.yml" in line]
    assert render, commands
    clone = str(tmp_path / "skyforge-labs")
    fresh_copy(clone)
    os.makedirs(str(tmp_path / "home"))
    script = ["set -euo pipefail"]
    if way == 1:   # "in a Python 3.11+ virtualenv of your own"
        own = tmp_path / "own-venv"
        script.append("%s -m venv %s && . %s/bin/activate" % (shutil.which("python3"), own, own))
    script += [install] + [line for line in commands if not line.startswith("ansible-playbook")] + render
    proc = subprocess.run(["bash", "-c", "\n".join(script)], cwd=clone, env=user_env(str(tmp_path / "home")),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=1800, check=False)
    assert proc.returncode == 0, "\n".join(script) + "\n" + proc.stdout[-4000:] + proc.stderr[-3000:]
    assert '"Lab frr-small: ' in proc.stdout
    assert os.path.isfile(os.path.join(clone, "out", "frr-small", "manifests.yml"))


def test_deploy_and_destroy_commands_work_verbatim(tmp_path, control_plane, c9s_manager_slot):
    from kubernetes import client

    from tests.controlplane.manager_fixtures import Kubelet
    from tests.ci import unavailable
    from tests.controlplane.manager import ManagerUnavailable

    lines = readme_block()
    commands = [line for line in lines[1:] if line.strip() and not line.startswith("#")]
    export = [line for line in commands if line.startswith("export ")]
    deploy = [line for line in commands if "playbooks/lab_deploy.yml" in line]
    destroy = [line for line in commands if "playbooks/lab_destroy.yml" in line]
    assert len(deploy) == len(destroy) == 1, commands
    namespace = re.search(r"-e namespace=(\S+)", deploy[0]).group(1)
    clone = str(tmp_path / "skyforge-labs")
    fresh_copy(clone)
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    shutil.copy(control_plane.admin_kubeconfig, str(home / ".kube" / "config"))
    # the make way: the collection link and a venv (this checkout's, already built)
    namespace_dir = os.path.join(clone, ".skyforge", "collections", "ansible_collections", "skyforge")
    os.makedirs(namespace_dir)
    os.symlink("../../../..", os.path.join(namespace_dir, "labs"))
    activate = ". %s/bin/activate" % os.path.dirname(os.path.dirname(os.path.abspath(sys.executable)))
    try:
        manager = c9s_manager_slot.get("v0.8")
    except ManagerUnavailable as exc:
        unavailable(str(exc))
    api = control_plane.api_client()
    kubelet = Kubelet(api, namespace, manager).run(boot=0.2)
    try:
        def bash(lines):
            return subprocess.run(["bash", "-c", "\n".join(["set -euo pipefail", activate] + export + lines)],
                                  cwd=clone, env=user_env(str(home)), stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=900, check=False)
        deployed = bash(deploy)
        assert deployed.returncode == 0, deployed.stdout[-4000:] + deployed.stderr[-2000:]
        assert "frr-small in %s (c9s.run/v1alpha1)" % namespace in deployed.stdout
        assert "4/4 nodes ready" in deployed.stdout
        destroyed = bash(destroy)
        assert destroyed.returncode == 0, destroyed.stdout[-4000:]
        assert kubelet.deployments("frr-small") == {}
    finally:
        kubelet.stop()
        try:
            client.CoreV1Api(api).delete_namespace(namespace)
        except client.rest.ApiException:
            pass
        api.close()
        c9s_manager_slot.stop()
