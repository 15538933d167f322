"""The README's "Using the collection" commands, verbatim, on a fresh copy of the checkout as
a new user runs them: each install way, then the render command. The deploy and destroy
lines need a cluster with a Clabernetes controller; they are exercised by
tests/webhook/test_collection_playbooks.py and the c9s_apply tests instead."""

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
