"""netlab_generate end to end with the real netlab CLI: determinism, idempotence, the files a
lab references, failures that leave the previous lab intact, and a private HOME."""

import json
import os
import shutil
import tarfile

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.lab import bundle as bundle_mod
from ansible_collections.skyforge.labs.plugins.module_utils.common.files import sha256_bytes
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.netlab.workdir import STATE_DIR
from ansible_collections.skyforge.labs.plugins.module_utils.netlab.generate import generate

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..", "examples")


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    """The test process's own HOME: a run must leave it exactly as it was (empty)."""
    home = tmp_path / "user-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("NETLAB_DEVICE", "eos")   # inherited NETLAB_* must not leak into netlab
    yield home
    assert os.listdir(str(home)) == []


def example(tmp_path, name):
    """A private copy of an example, so a test can break it."""
    dest = tmp_path / name
    shutil.copytree(os.path.join(EXAMPLES, name), str(dest))
    return dest


def run(topology, tmp_path, label="lab", **kwargs):
    return generate(str(topology), str(tmp_path / label / "work"),
                    str(tmp_path / label / "lab.tar.gz"), **kwargs)


def members(path):
    with tarfile.open(path) as archive:
        return sorted(archive.getnames())


def snapshot(directory):
    """(relpath -> bytes) of every file under directory, state directory included."""
    out = {}
    for current, _dirs, files in os.walk(directory):
        for name in files:
            full = os.path.join(current, name)
            out[os.path.relpath(full, directory)] = open(full, "rb").read()
    return out


def test_two_runs_give_byte_identical_bundles_and_the_second_changes_nothing(tmp_path):
    topo = os.path.join(EXAMPLES, "frr-small", "topology.yml")
    first = run(topo, tmp_path)
    assert first["changed"] and first["bundle_changed"]
    bundle = tmp_path / "lab" / "lab.tar.gz"
    before = os.stat(str(bundle))
    data = bundle.read_bytes()
    second = run(topo, tmp_path)
    after = os.stat(str(bundle))
    assert not second["changed"] and not second["bundle_changed"] and not second["workdir_changed"]
    assert second["bundle_sha256"] == first["bundle_sha256"] == sha256_bytes(data)
    assert bundle.read_bytes() == data
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_bundle_identity_across_workdirs(tmp_path):
    """netlab writes its working directory and ~/.netlab into group_vars/all/topology.json:
    two workdirs on two different paths still give byte-identical bundles, with those
    prefixes in the forms netlab starts from (`.` and `~`)."""
    topo = os.path.join(EXAMPLES, "frr-small", "topology.yml")
    one = generate(topo, str(tmp_path / "one" / "work"), str(tmp_path / "one.tar.gz"))
    two = generate(topo, str(tmp_path / "elsewhere" / "deeper" / "lab-2"), str(tmp_path / "two.tar.gz"))
    assert one["bundle_sha256"] == two["bundle_sha256"]
    assert (tmp_path / "one.tar.gz").read_bytes() == (tmp_path / "two.tar.gz").read_bytes()
    files = bundle_mod.read_bundle(one["bundle"])
    found = json.loads(files["group_vars/all/topology.json"][0])
    paths = json.dumps(dict((k, v) for k, v in found.items() if k.startswith("paths_")))
    assert str(tmp_path) not in paths and '"."' in paths and '"~/.netlab"' in paths
    # the workdir keeps what netlab wrote there
    with open(str(tmp_path / "one" / "work" / "group_vars" / "all" / "topology.json")) as handle:
        assert str(tmp_path / "one" / "work") in handle.read()


def test_manifest_describes_the_lab_and_every_file(tmp_path):
    result = run(os.path.join(EXAMPLES, "frr-small", "topology.yml"), tmp_path)
    files = bundle_mod.read_bundle(result["bundle"])
    raw = files["manifest.json"][0]
    manifest = json.loads(raw)
    assert manifest == result["manifest"]
    assert raw == (json.dumps(manifest, sort_keys=True, indent=2, separators=(",", ": "))
                   + "\n").encode()
    assert manifest["schema"] == "skyforge.labs/bundle/v1"
    assert manifest["lab_name"] == result["lab_name"] == "frr-small"
    assert manifest["nodes"] == result["nodes"] == ["h1", "r1", "r2", "r3"]
    assert manifest["netlab_version"] == "26.10" and manifest["provider"] == "clab"
    assert len(manifest["inputs_sha256"]) == 64
    listed = dict((f["path"], f) for f in manifest["files"])
    assert sorted(listed) == sorted(p for p in files if p != "manifest.json")
    for path, entry in listed.items():
        data, mode = files[path]
        assert entry["size"] == len(data)
        assert entry["sha256"] == sha256_bytes(data)
        assert entry["mode"] == "%04o" % mode
    assert listed["node_files/r1/initial"]["mode"] == "0755"
    assert listed["clab.yml"]["mode"] == "0644"


def test_non_reproducible_and_private_files_stay_out_of_the_bundle(tmp_path):
    result = run(os.path.join(EXAMPLES, "frr-small", "topology.yml"), tmp_path)
    names = members(result["bundle"])
    workdir = tmp_path / "lab" / "work"
    assert (workdir / "netlab.snapshot.pickle").is_file()      # netlab's lab stays complete
    assert "netlab.snapshot.pickle" not in names
    assert not [n for n in names if n.startswith(STATE_DIR) or n.endswith(".lock")]
    assert not (workdir / STATE_DIR / "home").exists()          # private HOME removed
    assert "clab.yml" in names and "node_files/-shared-hosts" in names


def test_inputs_digest_follows_settings(tmp_path):
    topo = os.path.join(EXAMPLES, "frr-small", "topology.yml")
    plain = run(topo, tmp_path, "plain")
    tuned = run(topo, tmp_path, "tuned", settings={"nodes.r1.id": 42})
    assert plain["manifest"]["inputs_sha256"] != tuned["manifest"]["inputs_sha256"]
    assert b"id: 42" in bundle_mod.read_bundle(tuned["bundle"])["hosts.yml"][0]


def test_environment_reaches_netlab(tmp_path):
    topo = tmp_path / "topology.yml"
    topo.write_text("nodes: [ r1, r2 ]\nlinks: [ r1-r2 ]\n")
    result = run(topo, tmp_path, environment={"NETLAB_DEVICE": "frr"})
    assert b"quay.io/frrouting/frr" in (tmp_path / "lab" / "work" / "clab.yml").read_bytes()
    assert result["nodes"] == ["r1", "r2"]


def test_files_next_to_the_topology_end_up_in_workdir_and_bundle(tmp_path):
    src = example(tmp_path, "multi-vendor")
    result = run(src / "topology.yml", tmp_path)
    workdir = tmp_path / "lab" / "work"
    files = bundle_mod.read_bundle(result["bundle"])
    for rel in ("files/motd.txt", "configs/c1.cfg"):
        assert (workdir / rel).read_bytes() == (src / rel).read_bytes()
        assert files[rel][0] == (src / rel).read_bytes()
    assert b"multi-vendor lab" in files["h1/issue.net"][0]      # written by netlab's files plugin
    assert "topology.yml" not in files                          # only what the lab references
    assert result["nodes"] == ["c1", "h1", "r1", "r2", "r3"]


def test_absolute_host_paths_are_warnings(tmp_path):
    topo = tmp_path / "topology.yml"
    topo.write_text("defaults.device: linux\nnodes:\n  h1:\n    clab.binds:\n"
                    "      /etc/hostname: /etc/host-hostname\n")
    result = run(topo, tmp_path)
    assert any("/etc/hostname" in w and "h1" in w for w in result["warnings"])


def test_missing_startup_config_names_node_and_file(tmp_path):
    src = example(tmp_path, "multi-vendor")
    os.unlink(str(src / "configs" / "c1.cfg"))
    with pytest.raises(LabError) as err:
        run(src / "topology.yml", tmp_path)
    message = err.value.message
    assert "node c1 startup-config configs/c1.cfg" in message
    assert str(src / "configs" / "c1.cfg") in message and "create them" in message
    assert not (tmp_path / "lab" / "lab.tar.gz").exists()


def test_missing_bind_source_fails_with_netlabs_own_text(tmp_path):
    src = example(tmp_path, "multi-vendor")
    os.unlink(str(src / "files" / "motd.txt"))
    with pytest.raises(LabError) as err:
        run(src / "topology.yml", tmp_path)
    assert "File files/motd.txt mapped to /etc/motd on node h1 does not exist" in err.value.message


def test_reference_climbing_out_of_the_topology_directory_is_refused(tmp_path):
    (tmp_path / "outside.txt").write_text("x\n")
    lab = tmp_path / "labdir"
    lab.mkdir()
    topo = lab / "topology.yml"
    topo.write_text("defaults.device: cat8000v\nnodes:\n  c1:\n"
                    "    clab.startup-config: ../outside.txt\n")
    with pytest.raises(LabError) as err:
        run(topo, tmp_path)
    assert "node c1 startup-config ../outside.txt" in err.value.message
    assert "outside the topology directory" in err.value.message


def test_unknown_device_carries_netlabs_error(tmp_path):
    topo = tmp_path / "topology.yml"
    topo.write_text("nodes:\n  r1:\n    device: warpdrive\n")
    with pytest.raises(LabError) as err:
        run(topo, tmp_path)
    assert "netlab create failed (exit 1)" in err.value.message
    assert "warpdrive" in err.value.message
    assert "warpdrive" in err.value.details["stderr"] + err.value.details["stdout"]


def test_invalid_yaml_names_the_file(tmp_path):
    topo = tmp_path / "topology.yml"
    topo.write_text("nodes: [ r1\nlinks: [ r1-r2 ]\n")
    with pytest.raises(LabError) as err:
        run(topo, tmp_path)
    assert str(topo) in err.value.message and "line" in err.value.message
    assert not (tmp_path / "lab").exists()


def test_nonexistent_topology(tmp_path):
    with pytest.raises(LabError) as err:
        run(tmp_path / "nope.yml", tmp_path)
    assert "nope.yml does not exist" in err.value.message


def test_bad_environment_key(tmp_path):
    with pytest.raises(LabError) as err:
        run(os.path.join(EXAMPLES, "frr-small", "topology.yml"), tmp_path,
            environment={"PATH": "/tmp"})
    assert "'PATH' is not a NETLAB_* variable" in err.value.message


def test_timeout_leaves_nothing_behind(tmp_path):
    with pytest.raises(LabError) as err:
        run(os.path.join(EXAMPLES, "large", "topology.yml"), tmp_path, timeout=1)
    assert "did not finish within 1 seconds" in err.value.message
    assert not (tmp_path / "lab" / "lab.tar.gz").exists()
    workdir = tmp_path / "lab" / "work"
    assert sorted(os.listdir(str(workdir))) == [STATE_DIR]


def test_failure_leaves_previous_workdir_and_bundle_intact(tmp_path):
    src = example(tmp_path, "multi-vendor")
    good = run(src / "topology.yml", tmp_path)
    workdir = tmp_path / "lab" / "work"
    bundle = tmp_path / "lab" / "lab.tar.gz"
    before_files = snapshot(str(workdir))
    before_bundle = bundle.read_bytes()
    text = (src / "topology.yml").read_text().replace("device: srlinux", "device: warpdrive")
    (src / "topology.yml").write_text(text)
    with pytest.raises(LabError):
        run(src / "topology.yml", tmp_path)
    assert snapshot(str(workdir)) == before_files
    assert bundle.read_bytes() == before_bundle
    assert sha256_bytes(before_bundle) == good["bundle_sha256"]


def test_interrupted_run_is_rolled_back_by_the_next_one(tmp_path):
    topo = os.path.join(EXAMPLES, "frr-small", "topology.yml")
    first = run(topo, tmp_path)
    workdir = tmp_path / "lab" / "work"
    # what a run killed half-way leaves: old content aside, partial new content in place
    previous = workdir / STATE_DIR / "previous"
    previous.mkdir()
    for name in os.listdir(str(workdir)):
        if name != STATE_DIR:
            os.rename(str(workdir / name), str(previous / name))
    (workdir / "clab.yml").write_text("partial")
    second = run(topo, tmp_path)
    assert not second["changed"] and second["bundle_sha256"] == first["bundle_sha256"]
    assert not previous.exists()


def test_check_mode_writes_nothing_and_predicts_the_real_run(tmp_path):
    topo = os.path.join(EXAMPLES, "multi-vendor", "topology.yml")
    predicted = run(topo, tmp_path, check_mode=True)
    assert predicted["changed"] and predicted["bundle_changed"]
    assert not (tmp_path / "lab").exists()
    real = run(topo, tmp_path)
    assert real["bundle_sha256"] == predicted["bundle_sha256"]
    again = run(topo, tmp_path, check_mode=True)
    assert not again["changed"]
    tuned = run(topo, tmp_path, check_mode=True, settings={"nodes.r1.id": 9})
    assert tuned["changed"] and tuned["bundle_sha256"] != real["bundle_sha256"]
    assert run(topo, tmp_path)["bundle_sha256"] == real["bundle_sha256"]


def test_running_lab_lock_is_explained(tmp_path):
    topo = os.path.join(EXAMPLES, "frr-small", "topology.yml")
    run(topo, tmp_path)
    (tmp_path / "lab" / "work" / "netlab.lock").write_text("")
    with pytest.raises(LabError) as err:
        run(topo, tmp_path)
    assert "netlab down --cleanup" in err.value.message


def test_foreign_non_empty_workdir_is_refused(tmp_path):
    workdir = tmp_path / "lab" / "work"
    workdir.mkdir(parents=True)
    (workdir / "precious.txt").write_text("mine")
    with pytest.raises(LabError) as err:
        run(os.path.join(EXAMPLES, "frr-small", "topology.yml"), tmp_path)
    assert "not empty and was not created by netlab_generate" in err.value.message
    assert (workdir / "precious.txt").read_text() == "mine"


def test_workdir_holding_the_topology_is_refused(tmp_path):
    src = example(tmp_path, "frr-small")
    with pytest.raises(LabError) as err:
        generate(str(src / "topology.yml"), str(src), str(tmp_path / "b.tar.gz"))
    assert "contains the topology directory" in err.value.message


def test_stale_files_from_an_earlier_topology_do_not_survive(tmp_path):
    topo = tmp_path / "topology.yml"
    topo.write_text("defaults.device: frr\nnodes: [ r1, r2, r3 ]\nlinks: [ r1-r2, r2-r3 ]\n")
    run(topo, tmp_path)
    topo.write_text("defaults.device: frr\nnodes: [ r1, r2 ]\nlinks: [ r1-r2 ]\n")
    result = run(topo, tmp_path)
    assert result["nodes"] == ["r1", "r2"]
    assert not (tmp_path / "lab" / "work" / "host_vars" / "r3").exists()
    assert not [n for n in members(result["bundle"]) if "r3" in n]


def test_topology_defaults_next_to_the_topology_count_as_input(tmp_path):
    src = example(tmp_path, "frr-small")
    before = run(src / "topology.yml", tmp_path, "before", check_mode=True)
    (src / "topology-defaults.yml").write_text("addressing:\n  loopback:\n    ipv4: 10.99.0.0/24\n")
    after = run(src / "topology.yml", tmp_path, "after")
    assert before["manifest"]["inputs_sha256"] != after["manifest"]["inputs_sha256"]
    assert b'"10.99.0.1"' in bundle_mod.read_bundle(after["bundle"])["group_vars/all/topology.json"][0]


def test_concurrent_run_on_the_same_workdir_is_refused(tmp_path):
    from ansible_collections.skyforge.labs.plugins.module_utils.netlab.workdir import WorkdirRun
    workdir = tmp_path / "lab" / "work"
    workdir.mkdir(parents=True)
    holder = WorkdirRun(str(workdir))
    holder.begin()
    try:
        with pytest.raises(LabError) as err:
            run(os.path.join(EXAMPLES, "frr-small", "topology.yml"), tmp_path)
        assert "another netlab_generate run" in err.value.message
    finally:
        holder.rollback()
    assert sorted(os.listdir(str(workdir))) == [STATE_DIR]
