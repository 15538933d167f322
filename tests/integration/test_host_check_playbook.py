"""playbooks/host_check.yml (role host_prereqs) on localhost against prepared host trees."""

import os

import pytest

from tests.fixtures.hosts import trees
from tests.servers.playbook import ROOT, run_playbook

pytestmark = pytest.mark.slow
PLAYBOOK = os.path.join(ROOT, "playbooks", "host_check.yml")
VM_LAB = ("name: vm\ntopology:\n  nodes:\n    s1: {kind: cisco_n9kv, image: vrnetlab/cisco_n9kv:10.4.1}\n")


def extravars(root, tmp_path, **more):
    (tmp_path / "clab.yml").write_text(VM_LAB)
    return dict({"target": "localhost", "root": root, "topology": str(tmp_path / "clab.yml"),
                 "lab_user": trees.LAB_USER, "checks": ["kvm", "cpu_virt", "nested_virt", "memory", "containerlab"],
                 "check_images": False},
                **more)


def test_kvm_host_passes(tmp_path):
    root = trees.build("kvm_host", str(tmp_path / "host"))
    rc, results, dummy = run_playbook(tmp_path / "run", PLAYBOOK, extravars(root, tmp_path))
    assert rc == 0
    check = results["Run the prerequisite checks"]
    assert check["_event"] == "runner_on_ok" and check["changed"] is False
    assert [c["status"] for c in check["checks"]] == ["ok"] * 5
    assert check["needs"]["vm_kinds"] == ["cisco_n9kv"]
    assert results["Show the summary"]["msg"] == "5 checks: 5 ok, 0 warn, 0 fail"
    copied = results["Make a temporary file for the topology"]["path"]
    assert results["Remove the temporary topology"]["changed"] is True and not os.path.exists(copied)


def test_vm_without_nested_fails_with_remedies(tmp_path):
    root = trees.build("vm_no_nested", str(tmp_path / "host"))
    rc, results, dummy = run_playbook(tmp_path / "run", PLAYBOOK, extravars(root, tmp_path))
    assert rc == 2
    check = results["Run the prerequisite checks"]
    assert check["_event"] == "runner_on_failed"
    assert check["failed_checks"] == ["kvm", "cpu_virt", "nested_virt"]
    assert "nested_virt (fail): this is a VM without nested virtualisation" in check["msg"]
    assert "Fix: enable nested virtualisation" in check["msg"]
    assert "Remove the temporary topology" in results


def test_report_only(tmp_path):
    root = trees.build("unreadable_kvm", str(tmp_path / "host"))
    rc, results, dummy = run_playbook(tmp_path / "run", PLAYBOOK, extravars(root, tmp_path, fail_on="never"))
    assert rc == 0
    statuses = dict((c["name"], c["status"]) for c in results["Run the prerequisite checks"]["checks"])
    assert statuses["kvm"] == "fail"


def test_relative_topology_means_the_job_directory_and_errors_name_the_users_file(tmp_path):
    """ansible-runner starts the job in <private_data_dir>/project, as AWX does: a relative
    topology is found there, and an error names that file, not the role's temporary copy."""
    root = trees.build("kvm_host", str(tmp_path / "host"))
    project = tmp_path / "run" / "project"
    project.mkdir(parents=True)
    (project / "clab.yml").write_text(VM_LAB)
    (project / "broken.clab.yml").write_text("name: b\ntopology:\n  nodes: [r1]\n")
    args = dict(extravars(root, tmp_path), topology="clab.yml")
    rc, results, dummy = run_playbook(tmp_path / "run", PLAYBOOK, args)
    assert rc == 0 and results["Run the prerequisite checks"]["needs"]["vm_kinds"] == ["cisco_n9kv"]
    rc, results, dummy = run_playbook(tmp_path / "run", PLAYBOOK, dict(args, topology="broken.clab.yml"))
    msg = results["Run the prerequisite checks"]["msg"]
    assert rc == 2 and msg.startswith(str(project / "broken.clab.yml") + " (copied to "), msg


NETLAB_VM_LAB = "name: nvm\nnodes:\n  s1:\n    device: nxos\n  r1:\n    device: frr\nlinks: [s1-r1]\n"


def test_a_netlab_topology_is_rendered_and_both_checks_run(tmp_path):
    """The webhook catalog's host_check takes the netlab topologies under examples/: the
    playbook renders one on the control node, checks its images, then the hosts."""
    root = trees.build("kvm_host", str(tmp_path / "host"))
    (tmp_path / "topology.yml").write_text(NETLAB_VM_LAB)
    args = dict(extravars(root, tmp_path), topology=str(tmp_path / "topology.yml"), check_images=True,
                fail_on="never")
    rc, results, dummy = run_playbook(tmp_path / "run", PLAYBOOK, args)
    assert rc == 0, results
    assert results["Run the prerequisite checks"]["needs"]["vm_kinds"] == ["cisco_n9kv"]
    images = results["Check the lab's images"]["images"]
    assert sorted(i["nodes"] for i in images) == [["r1"], ["s1"]]
    assert "images:" in results["Show the image summary"]["msg"]
    rendered = results["Make a directory to render the netlab topology in"]["path"]
    assert results["Remove the rendered netlab topology"]["changed"] is True and not os.path.exists(rendered)

    # vrnetlab images are in no public registry: missing or unchecked, this fails either way
    rc, results, dummy = run_playbook(tmp_path / "run2", PLAYBOOK, dict(args, fail_on="fail"))
    failed = results["Fail on images that are missing or could not be checked"]
    assert rc == 2 and failed["_event"] == "runner_on_failed" and "vrnetlab" in failed["msg"]
