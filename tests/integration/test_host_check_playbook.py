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
                 "lab_user": trees.LAB_USER, "checks": ["kvm", "cpu_virt", "nested_virt", "memory", "containerlab"]},
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
    (project / "topology.yml").write_text("provider: clab\nnodes: [r1, r2]\nlinks: [r1-r2]\n")
    args = dict(extravars(root, tmp_path), topology="clab.yml")
    rc, results, dummy = run_playbook(tmp_path / "run", PLAYBOOK, args)
    assert rc == 0 and results["Run the prerequisite checks"]["needs"]["vm_kinds"] == ["cisco_n9kv"]
    rc, results, dummy = run_playbook(tmp_path / "run", PLAYBOOK, dict(args, topology="topology.yml"))
    msg = results["Run the prerequisite checks"]["msg"]
    assert rc == 2 and msg.startswith(str(project / "topology.yml") + " (copied to ")
    assert "is a netlab topology, not the containerlab one" in msg
