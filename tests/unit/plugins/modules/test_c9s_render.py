# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""skyforge.labs.c9s_render run by ansible-playbook: changed, check mode, diff, errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import textwrap

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")
PYTHON = os.path.join(REPO, ".venv", "bin", "python")
COLLECTIONS = os.path.join(REPO, ".skyforge", "collections")

CLAB = """\
name: demo
topology:
  kinds:
    linux:
      binds: ["node_files/__clabNodeName__/run.sh:/run.sh"]
  nodes:
    r1: { kind: linux }
    r2: { kind: linux }
  links:
    - endpoints: ["r1:eth1", "r2:eth1"]
"""


@pytest.fixture()
def lab(tmp_path):
    root = tmp_path / "lab"
    for node in ("r1", "r2"):
        script = root / "node_files" / node / "run.sh"
        script.parent.mkdir(parents=True)
        script.write_text("#!/bin/sh\necho %s\n" % node)
        script.chmod(0o755)
    (root / "clab.yml").write_text(CLAB)
    return str(root)


def run_render(tmp_path, args, check=False, diff=False, keywords=None):
    """Run the task in a one-task playbook (keywords: extra task keywords);
    return (registered result, stdout)."""
    out = tmp_path / "result.json"
    if out.exists():
        out.unlink()
    extra = "".join("      %s: %s\n" % (key, json.dumps(value)) for key, value in (keywords or {}).items())
    playbook = tmp_path / "play.yml"
    playbook.write_text(textwrap.dedent("""\
        - name: Render
          hosts: localhost
          gather_facts: false
          vars:
            ansible_python_interpreter: %s
          tasks:
            - name: Render the lab
              skyforge.labs.c9s_render: %s
              register: rendered
              ignore_errors: true
        %s
            - name: Keep the result
              ansible.builtin.copy:
                content: "{{ rendered | to_json }}"
                dest: %s
              check_mode: false
        """) % (PYTHON, json.dumps(args), extra, out))
    cmd = [PLAYBOOK, "-i", "localhost,", "-c", "local", str(playbook)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text()), proc.stdout + proc.stderr


def test_render_then_identical_rerun_is_unchanged(tmp_path, lab):
    dest = str(tmp_path / "manifests.yml")
    args = {"src": lab, "dest": dest, "namespace": "lab-demo"}
    first, _out = run_render(tmp_path, args)
    assert first["changed"] is True and not first.get("failed")
    assert first["topology"] == {"name": "demo", "namespace": "lab-demo", "api_version": "c9s.run/v1alpha1"}
    assert len(first["configmaps"]) == 1 and first["configmaps"][0]["keys"] == 2
    assert first["counts"] == {"nodes": 2, "configmaps": 1, "configmap_bytes": first["configmaps"][0]["bytes"],
                               "mounts": 2, "files_from_url": 0}
    assert "mounts" not in first and "files_from_url" not in first    # per node: only on request
    second, _out = run_render(tmp_path, dict(args, return_details=True))
    assert second["changed"] is False
    assert second["manifest_sha256"] == first["manifest_sha256"]
    assert [m["filePath"] for m in second["mounts"]["r1"]] == ["node_files/r1/run.sh"]
    assert second["mounts"]["r1"][0]["mode"] == "execute" and second["files_from_url"] == {}
    assert dict(second, mounts=None, files_from_url=None) == dict(first, changed=False, mounts=None,
                                                                  files_from_url=None)


def test_check_mode_and_diff_leave_dest_alone(tmp_path, lab):
    dest = tmp_path / "manifests.yml"
    args = {"src": lab, "dest": str(dest), "namespace": "lab-demo"}
    result, stdout = run_render(tmp_path, args, check=True, diff=True)
    assert result["changed"] is True and not dest.exists()
    assert "kind: Topology" in stdout
    run_render(tmp_path, args)
    content = dest.read_bytes()
    (tmp_path / "lab" / "node_files" / "r2" / "run.sh").write_text("#!/bin/sh\necho changed\n")
    result, stdout = run_render(tmp_path, args, check=True, diff=True)
    assert result["changed"] is True and dest.read_bytes() == content
    assert "+    echo changed" in stdout


def test_failures_are_clear_and_write_nothing(tmp_path, lab):
    dest = tmp_path / "out" / "manifests.yml"
    result, _out = run_render(tmp_path, {"src": lab, "dest": str(dest), "namespace": "lab-demo",
                                         "max_configmap_bytes": 2000000})
    assert result["failed"] and "1048576" in result["msg"]
    result, _out = run_render(tmp_path, {"src": str(tmp_path / "nope.tar.gz"), "dest": str(dest),
                                         "namespace": "lab-demo"})
    assert result["failed"] and "nope.tar.gz does not exist" in result["msg"]
    assert not (tmp_path / "out").exists()


def test_warnings_reach_the_play(tmp_path, lab):
    (tmp_path / "lab" / "clab.yml").write_text(CLAB.replace("r2: { kind: linux }", "r2: { kind: bridge }"))
    result, stdout = run_render(tmp_path, {"src": lab, "dest": str(tmp_path / "m.yml"), "namespace": "lab-demo"})
    assert any("rejects kind 'bridge'" in w for w in result["warnings"])
    assert "rejects kind" in stdout


def test_a_lab_without_pitfalls_has_no_warnings(tmp_path, lab):
    result, stdout = run_render(tmp_path, {"src": lab, "dest": str(tmp_path / "m.yml"), "namespace": "lab-demo"})
    assert result["changed"] is True and "warnings" not in result and "[WARNING]" not in stdout
    assert "deprecat" not in stdout.lower()


def test_on_the_controller_the_render_runs_in_process(tmp_path, lab):
    """-c local: the action plugin renders without starting a module interpreter."""
    dest = tmp_path / "m.yml"
    result, _out = run_render(tmp_path, {"src": lab, "dest": str(dest), "namespace": "lab-demo"},
                              keywords={"vars": {"ansible_python_interpreter": str(tmp_path / "no-such-python")}})
    assert result["changed"] is True and dest.exists()


def test_the_module_path_gives_the_same_render(tmp_path, lab):
    """A task environment (like a remote host or become) goes through the module: same bytes, same result."""
    in_process, _out = run_render(tmp_path, {"src": lab, "dest": str(tmp_path / "a.yml"), "namespace": "lab-demo",
                                             "return_details": True})
    env = {"SKYFORGE_PATH_TEST": "module"}
    module, _out = run_render(tmp_path, {"src": lab, "dest": str(tmp_path / "b.yml"), "namespace": "lab-demo"},
                              keywords={"environment": env,
                                        "vars": {"ansible_python_interpreter": str(tmp_path / "no-such-python")}})
    assert module["failed"] and "no-such-python" in module["msg"]
    module, _out = run_render(tmp_path, {"src": lab, "dest": str(tmp_path / "b.yml"), "namespace": "lab-demo",
                                         "return_details": True}, keywords={"environment": env})
    assert (tmp_path / "a.yml").read_bytes() == (tmp_path / "b.yml").read_bytes()
    for key in ("changed", "manifest_sha256", "manifest_bytes", "topology", "configmaps", "counts", "mounts",
                "files_from_url"):
        assert module[key] == in_process[key], key
