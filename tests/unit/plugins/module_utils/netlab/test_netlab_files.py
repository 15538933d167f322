"""Files a lab references next to its topology: seeding before netlab, settling after."""

import os

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.netlab import files as lab_files
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError


def clab(nodes, **topo):
    topo["nodes"] = nodes
    return {"name": "x", "topology": topo}


@pytest.fixture
def topo_dir(tmp_path):
    root = tmp_path / "topo"
    (root / "files").mkdir(parents=True)
    (root / "files" / "motd.txt").write_text("motd\n")
    (root / "configs").mkdir()
    (root / "configs" / "r1.cfg").write_text("hostname r1\n")
    (root / "unused.txt").write_text("not referenced\n")
    return root


def test_candidates_come_from_values_keys_and_bind_strings(topo_dir):
    data = {"nodes": {"h1": {"clab.binds": {"files/motd.txt": "/etc/motd"}},
                      "r1": {"clab": {"startup-config": "configs/r1.cfg",
                                      "binds": ["unused.txt:/x:ro", "../escape:/y"]}}},
            "message": "nothing\nhere", "other": "missing.txt"}
    assert lab_files.seed_candidates(data, str(topo_dir)) == [
        "configs/r1.cfg", "files/motd.txt", "unused.txt"]


def test_settle_keeps_referenced_copies_and_drops_unreferenced_ones(topo_dir, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    seeded = lab_files.seed(["files/motd.txt", "unused.txt"], str(topo_dir), str(run))
    data = clab({"h1": {"kind": "linux", "binds": ["files/motd.txt:/etc/motd"]},
                 "r1": {"kind": "cisco_iol", "startup-config": "configs/r1.cfg"}})
    assert lab_files.settle(data, seeded, str(topo_dir), str(run)) == []
    assert (run / "files" / "motd.txt").read_text() == "motd\n"
    assert (run / "configs" / "r1.cfg").read_text() == "hostname r1\n"   # found after the run
    assert not (run / "unused.txt").exists()


def test_settle_keeps_a_seeded_path_netlab_rewrote(topo_dir, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    seeded = lab_files.seed(["unused.txt"], str(topo_dir), str(run))
    os.unlink(str(run / "unused.txt"))
    (run / "unused.txt").write_text("written by netlab's files plugin, longer\n")
    lab_files.settle(clab({}), seeded, str(topo_dir), str(run))
    assert (run / "unused.txt").exists()


def test_settle_reports_missing_escaping_and_host_paths(topo_dir, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    warnings = lab_files.settle(
        clab({"h1": {"kind": "linux", "binds": ["/etc/hostname:/etc/hostname", "__clabDir__/x:/x"]}}),
        {}, str(topo_dir), str(run))
    assert len(warnings) == 1 and "node h1 bind /etc/hostname" in warnings[0]
    with pytest.raises(LabError) as err:
        lab_files.settle(clab({"r1": {"kind": "linux", "license": "lic/r1.lic"}}),
                         {}, str(topo_dir), str(run), "work/clab.yml")
    assert "work/clab.yml" in err.value.message and "node r1 license lic/r1.lic" in err.value.message
    with pytest.raises(LabError) as err:
        lab_files.settle(clab({"r1": {"kind": "linux", "binds": ["../x:/x"]}}),
                         {}, str(topo_dir), str(run))
    assert "outside the topology directory" in err.value.message


def test_kinds_level_startup_config_is_honoured(topo_dir, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    data = clab({"r1": {"kind": "cisco_iol"}}, kinds={"cisco_iol": {"startup-config": "configs/r1.cfg"}})
    lab_files.settle(data, {}, str(topo_dir), str(run))
    assert (run / "configs" / "r1.cfg").is_file()
