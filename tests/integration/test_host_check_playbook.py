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
