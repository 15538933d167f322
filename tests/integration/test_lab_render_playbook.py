"""playbooks/lab_render.yml as `make demo` and users run it: real netlab, real rendering."""

import os
import re
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run_playbook(tmp_path, *extra):
    env = dict(os.environ, HOME=str(tmp_path / "home"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".skyforge", "collections"),
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_NOCOLOR="1", PWD=ROOT)
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
         "-i", os.path.join(ROOT, "inventories", "local"),
         os.path.join(ROOT, "playbooks", "lab_render.yml"), *extra],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=600, check=False)
    return proc


def test_renders_an_example_from_a_relative_path_and_is_idempotent(tmp_path):
    (tmp_path / "home").mkdir()
    out = tmp_path / "out"
    args = ("-e", "topology=examples/frr-small/topology.yml", "-e", "output_dir=%s" % out,
            "-e", "namespace=lab-demo")
    first = _run_playbook(tmp_path, *args)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert '"Lab frr-small: ' in first.stdout
    assert '"Bundle %s/bundle.tar.gz sha256 ' % out in first.stdout
    assert " ConfigMaps:" in first.stdout and '"Manifests %s/manifests.yml sha256 ' % out in first.stdout

    docs = list(yaml.safe_load_all((out / "manifests.yml").read_text()))
    assert docs[-1]["kind"] == "Topology" and docs[-1]["metadata"]["namespace"] == "lab-demo"
    # the lab's files, then its inventory ConfigMap and (netlab's linux password) credentials Secret
    assert [doc["kind"] for doc in docs[-3:-1]] == ["ConfigMap", "Secret"]
    assert all(doc["kind"] == "ConfigMap" for doc in docs[:-2])

    bundle_before = (out / "bundle.tar.gz").stat()
    second = _run_playbook(tmp_path, *args)
    assert second.returncode == 0, second.stdout[-3000:]
    assert "changed=0" in second.stdout and "failed=0" in second.stdout
    assert (out / "bundle.tar.gz").stat().st_mtime_ns == bundle_before.st_mtime_ns


def test_missing_topology_is_named_in_the_failure(tmp_path):
    (tmp_path / "home").mkdir()
    proc = _run_playbook(tmp_path, "-e", "topology=examples/nope/topology.yml",
                         "-e", "output_dir=%s" % (tmp_path / "out"))
    assert proc.returncode != 0
    assert "%s/examples/nope/topology.yml does not exist" % ROOT in proc.stdout
    assert not (tmp_path / "out" / "bundle.tar.gz").exists()


def test_without_topology_the_play_says_which_var_to_set(tmp_path):
    (tmp_path / "home").mkdir()
    proc = _run_playbook(tmp_path)
    assert proc.returncode != 0
    assert "Set the extra var 'topology'" in proc.stdout


BIG_FILE_LAB = """name: bigfile
nodes:
  h1:
    device: linux
    clab.binds:
      files/big.bin: /opt/big.bin:ro
"""


def _big_file_lab(tmp_path):
    lab = tmp_path / "bigfile"
    (lab / "files").mkdir(parents=True)
    (lab / "topology.yml").write_text(BIG_FILE_LAB)
    (lab / "files" / "big.bin").write_bytes(os.urandom(1200 * 1024))
    return lab / "topology.yml"


def test_large_file_url_is_an_extra_var_of_the_playbook(tmp_path):
    (tmp_path / "home").mkdir()
    topology = _big_file_lab(tmp_path)
    out = tmp_path / "out"
    refused = _run_playbook(tmp_path, "-e", "topology=%s" % topology, "-e", "output_dir=%s" % out)
    assert refused.returncode != 0
    assert "set large_file_url" in refused.stdout, refused.stdout[-3000:]

    served = _run_playbook(tmp_path, "-e", "topology=%s" % topology, "-e", "output_dir=%s" % out,
                           "-e", "large_file_url=https://files.example.net/labs/bigfile")
    assert served.returncode == 0, served.stdout[-3000:]
    topo = list(yaml.safe_load_all((out / "manifests.yml").read_text()))[-1]
    urls = [entry["url"] for entries in topo["spec"]["deployment"]["filesFromURL"].values() for entry in entries]
    assert urls == ["https://files.example.net/labs/bigfile/files/big.bin"]


def test_output_is_keyed_by_the_lab_name(tmp_path):
    # the webhook serialises lab_render and lab_deploy runs by lab_name: two names for one
    # topology must not share (and overwrite) one output directory
    (tmp_path / "home").mkdir()
    for name in ("blue", "green"):
        proc = _run_playbook(tmp_path, "-e", "topology=%s/examples/frr-small/topology.yml" % ROOT,
                             "-e", "lab_name=" + name, "-e", "base_dir=%s" % tmp_path)
        assert proc.returncode == 0, proc.stdout[-3000:]
    for name in ("blue", "green"):
        topo = list(yaml.safe_load_all((tmp_path / "out" / name / "manifests.yml").read_text()))[-1]
        assert topo["metadata"]["name"] == name
    assert not (tmp_path / "out" / "frr-small").exists()


def _warnings(tmp_path, topology, *extra):
    (tmp_path / "home").mkdir(exist_ok=True)
    proc = _run_playbook(tmp_path, "-e", "topology=%s" % topology, "-e", "output_dir=%s" % (tmp_path / "out"), *extra)
    assert proc.returncode == 0, proc.stdout[-3000:]
    return re.findall(r'"warning: ((?:[^"\\]|\\.)*)"', proc.stdout)


def test_each_warnings_advice_applied_as_written_makes_it_go_away(tmp_path):
    lab = tmp_path / "warned"
    lab.mkdir()
    # what the shipped examples did before their topology carried the advice
    (lab / "topology.yml").write_text("name: warned\ndefaults.device: frr\nmodule: [ospf]\n"
                                      "nodes:\n  r1:\n  h1:\n    device: linux\nlinks: [h1-r1]\n")
    warnings = _warnings(tmp_path, lab / "topology.yml")
    assert len(warnings) == 2, warnings
    for warning in warnings:
        text = warning.encode().decode("unicode_escape")
        advice = re.search(r"-e '(\{.*?\})' with the playbooks", text)
        assert advice, text
        after = _warnings(tmp_path, lab / "topology.yml", "-e", advice.group(1))
        assert all(w.split(":")[0] != warning.split(":")[0] for w in after), (text, after)


@pytest.mark.parametrize("example", ["frr-small", "multi-vendor"])
def test_shipped_examples_render_without_warnings(tmp_path, example):
    assert _warnings(tmp_path, os.path.join(ROOT, "examples", example, "topology.yml")) == []
