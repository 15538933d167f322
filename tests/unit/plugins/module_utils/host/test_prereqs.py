"""host_prereqs checks against prepared host trees (tests/fixtures/hosts/trees.py)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.host import prereqs
from ansible_collections.skyforge.labs.plugins.module_utils.lab.bundle import bundle_bytes
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.common.files import atomic_write
from ansible_collections.skyforge.labs.plugins.module_utils.lab.source import lab_nodes
from ansible_collections.skyforge.labs.plugins.module_utils.host.needs import derive_needs, kind_needs
from tests.ci import unavailable
from tests.fixtures.hosts import trees

VM_LAB = ("name: vm\ntopology:\n  kinds:\n    cisco_n9kv: {image: vrnetlab/cisco_n9kv:10.4.1}\n"
          "  nodes:\n    s1: {kind: cisco_n9kv}\n    r1: {kind: linux, image: quay.io/frrouting/frr:10.7.1}\n")
CONTAINER_LAB = ("name: c\ntopology:\n  defaults: {kind: linux, image: quay.io/frrouting/frr:10.7.1}\n"
                 "  nodes:\n    r1: {}\n    r2: {}\n")


@pytest.fixture
def tree(tmp_path):
    def make(kind, **kwargs):
        return trees.build(kind, str(tmp_path / kind), **kwargs)
    return make


def lab(tmp_path, text, features=None):
    directory = tmp_path / "lab"
    directory.mkdir(exist_ok=True)
    (directory / "clab.yml").write_text(text)
    for node, modules in (features or {}).items():
        (directory / "host_vars" / node).mkdir(parents=True)
        (directory / "host_vars" / node / "topology.json").write_text(json.dumps({"module": modules}))
    return str(directory / "clab.yml")


def run(root, topology=None, **params):
    params = dict({"root": root, "topology": topology, "lab_user": trees.LAB_USER, "min_free_disk_gb": 0}, **params)
    return prereqs.host_prereqs(params)


def by_name(out):
    return dict((c["name"], c) for c in out["checks"])


def test_kvm_host_passes_and_reports_loadable_modules(tmp_path, tree):
    topology = lab(tmp_path, VM_LAB, {"r1": ["lag", "vxlan", "vrf", "ospf"], "s1": ["ospf"]})
    out = run(tree("kvm_host"), topology)
    checks = by_name(out)
    assert list(checks) == list(prereqs.CHECKS)
    for name in ("kvm", "cpu_virt", "nested_virt", "memory", "cpus", "disk", "container_runtime",
                 "containerlab", "inotify", "cgroup_v2"):
        assert checks[name]["status"] == "ok", checks[name]
    assert "usable by labber" in checks["kvm"]["detail"]
    assert checks["containerlab"]["detail"].startswith("containerlab 0.75.1")
    modules = checks["kernel_modules"]
    assert modules["status"] == "warn"
    assert "bonding: loaded (for lag on r1)" in modules["detail"]
    assert "vxlan: available, not loaded (for vxlan on r1)" in modules["detail"]
    assert "modprobe -a vxlan" in modules["remedy"]
    assert out["failed_checks"] == []
    assert out["needs"]["memory_mb"] == 8192 + 256 and out["needs"]["vm_kinds"] == ["cisco_n9kv"]
    assert out["summary"] == "11 checks: 10 ok, 1 warn, 0 fail (kernel_modules warn)"


def test_fail_on_levels(tmp_path, tree):
    root = tree("kvm_host")
    topology = lab(tmp_path, VM_LAB, {"r1": ["vxlan"]})
    assert run(root, topology, fail_on="fail")["failed_checks"] == []
    warned = run(root, topology, fail_on="warn")
    assert warned["failed_checks"] == ["kernel_modules"]
    assert "kernel_modules (warn)" in warned["message"] and "Fix: load them" in warned["message"]
    assert run(root, topology, fail_on="never")["message"] == ""
    with pytest.raises(LabError, match="fail_on"):
        run(root, topology, fail_on="sometimes")


def test_vm_without_nested_virtualisation(tmp_path, tree):
    out = run(tree("vm_no_nested"), lab(tmp_path, VM_LAB))
    checks = by_name(out)
    assert checks["nested_virt"]["status"] == "fail"
    assert "VM without nested virtualisation" in checks["nested_virt"]["detail"]
    assert "cisco_n9kv" in checks["nested_virt"]["detail"]
    assert checks["cpu_virt"]["status"] == "fail" and "this VM's CPU" in checks["cpu_virt"]["detail"]
    assert checks["kvm"]["status"] == "fail" and "does not exist" in checks["kvm"]["detail"]
    assert set(out["failed_checks"]) == {"kvm", "cpu_virt", "nested_virt"}
    assert "Fix: enable nested virtualisation" in out["message"]


def test_vm_checks_are_not_needed_for_container_only_labs(tmp_path, tree):
    checks = by_name(run(tree("vm_no_nested"), lab(tmp_path, CONTAINER_LAB)))
    for name in ("kvm", "cpu_virt", "nested_virt"):
        assert checks[name]["status"] == "ok" and checks[name]["detail"].startswith("not needed")


def test_missing_kernel_modules(tmp_path, tree):
    topology = lab(tmp_path, CONTAINER_LAB, {"r1": ["lag", "mpls"], "r2": ["vrf", "vxlan"]})
    check = by_name(run(tree("missing_modules"), topology))["kernel_modules"]
    assert check["status"] == "fail"
    assert "mpls_router: missing (for mpls on r1)" in check["detail"]
    assert "bonding: available, not loaded" in check["detail"]
    assert "linux-modules-extra-%s" % trees.KERNEL in check["remedy"]
    assert "mpls_iptunnel, mpls_router, vrf, vxlan" in check["remedy"]


def test_builtin_and_sys_module_count_as_present(tmp_path, tree):
    root = tree("missing_modules")
    os.makedirs(os.path.join(root, "sys", "module", "vrf"))
    check = by_name(run(root, None, modules=["bridge", "vrf"], checks=["kernel_modules"]))["kernel_modules"]
    assert check["status"] == "ok"
    assert "bridge: built in" in check["detail"] and "vrf: loaded" in check["detail"]


def test_unreadable_dev_kvm(tmp_path, tree):
    check = by_name(run(tree("unreadable_kvm"), lab(tmp_path, VM_LAB)))["kvm"]
    assert check["status"] == "fail"
    assert "not readable and writable by labber (mode 0600, owner uid 0, group root)" in check["detail"]
    assert "usermod -aG root labber" in check["remedy"]


def open_as(path, uid, gid):
    """errno name of opening `path` O_RDWR as uid/gid in a child process ('' when it opened)."""
    code = ("import os, errno, sys\nos.setgroups([%d]); os.setgid(%d); os.setuid(%d)\n"
            "try:\n    os.close(os.open(sys.argv[1], os.O_RDWR))\n    print('')\n"
            "except OSError as e:\n    print(errno.errorcode[e.errno])\n" % (gid, gid, uid))
    return subprocess.run([sys.executable, "-c", code, path], stdout=subprocess.PIPE, check=True,
                          timeout=30).stdout.decode().strip()


def test_kvm_verdict_matches_what_the_kernel_allows():
    if os.geteuid() != 0:
        unavailable("switching to the lab user's uid needs root")
    # Root bypasses permission bits, so our verdict comes from mode/owner/group. Check it
    # against the kernel: open the same device node as the lab user's uid in a child.
    base = tempfile.mkdtemp(prefix="skyforge-kvm-")
    try:
        os.chmod(base, 0o755)
        for kind, expect in (("unreadable_kvm", "fail"), ("kvm_host", "ok")):
            root = trees.build(kind, os.path.join(base, kind))
            for directory in (root, os.path.join(root, "dev")):
                os.chmod(directory, 0o755)
            verdict = by_name(run(root, None, checks=["kvm"]))["kvm"]["status"]
            assert verdict == expect
            denied = open_as(os.path.join(root, "dev", "kvm"), trees.LAB_UID, trees.KVM_GID if expect == "ok"
                             else trees.LAB_UID) == "EACCES"
            assert denied == (verdict == "fail")
    finally:
        shutil.rmtree(base)


def test_dev_kvm_that_is_not_a_device(tmp_path, tree):
    root = tree("kvm_host")
    os.unlink(os.path.join(root, "dev", "kvm"))
    open(os.path.join(root, "dev", "kvm"), "w").close()
    check = by_name(run(root, None, checks=["kvm"]))["kvm"]
    assert check["status"] == "fail" and "not a character device" in check["detail"]


def test_unknown_lab_user(tree):
    check = by_name(run(tree("kvm_host"), None, checks=["kvm"], lab_user="ghost"))["kvm"]
    assert check["status"] == "warn" and "ghost" in check["detail"]


def test_missing_proc_files_fail_each_check_clearly(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    checks = by_name(run(str(empty), None, modules=["vrf"]))
    for name in ("cpu_virt", "nested_virt", "kernel_modules", "memory", "cpus", "inotify"):
        assert checks[name]["status"] == "fail", name
        assert "cannot read %s/proc/" % empty in checks[name]["detail"], checks[name]
        assert "point root at" in checks[name]["remedy"]
    assert checks["container_runtime"]["status"] == "fail"
    assert checks["cgroup_v2"]["status"] == "warn"


def test_memory_and_cpu_shortfalls(tmp_path, tree):
    topology = lab(tmp_path, VM_LAB)
    checks = by_name(run(tree("kvm_host", memory_mb=4096, cpus=1), topology, checks=["memory", "cpus"]))
    assert checks["memory"]["status"] == "fail"
    assert "lab needs about 8448 MiB for 2 nodes; host has 4096 MiB total" in checks["memory"]["detail"]
    assert checks["cpus"]["status"] == "warn" and "host has 1" in checks["cpus"]["detail"]


def test_disk_threshold(tree):
    check = by_name(run(tree("kvm_host"), None, checks=["disk"], min_free_disk_gb=10 ** 9))["disk"]
    assert check["status"] == "fail" and "GiB free at" in check["detail"]


def test_runtime_and_containerlab(tmp_path, tree):
    root = tree("kvm_host")
    os.unlink(os.path.join(root, "run", "docker.sock"))
    with open(os.path.join(root, "usr", "bin", "containerlab"), "w") as handle:
        handle.write("#!/bin/sh\necho 'version: 0.60.2'\n")
    checks = by_name(run(root, None, checks=["container_runtime", "containerlab"]))
    assert checks["container_runtime"]["status"] == "fail"
    assert "docker (binary %s/usr/bin/docker, socket missing)" % root in checks["container_runtime"]["detail"]
    assert checks["containerlab"]["status"] == "fail" and "0.60.2 is older than 0.75.0" in checks["containerlab"]["detail"]
    cluster = by_name(run(root, None, checks=["container_runtime", "containerlab"], mode="cluster"))
    assert cluster["containerlab"]["status"] == "ok"
    assert "containerd" in cluster["container_runtime"]["remedy"]


def test_containerlab_group_membership(tmp_path, tree):
    root = tree("kvm_host")
    with open(os.path.join(root, "etc", "group"), "w") as handle:
        handle.write("root:x:0:\nkvm:x:108:labber\nclab_admins:x:1001:\n")
    check = by_name(run(root, None, checks=["containerlab"]))["containerlab"]
    assert check["status"] == "warn" and "usermod -aG clab_admins labber" in check["remedy"]


def test_inotify_and_cgroup_v1(tree):
    root = tree("kvm_host")
    with open(os.path.join(root, "proc", "sys", "fs", "inotify", "max_user_instances"), "w") as handle:
        handle.write("128\n")
    os.unlink(os.path.join(root, "sys", "fs", "cgroup", "cgroup.controllers"))
    checks = by_name(run(root, None, checks=["inotify", "cgroup_v2"]))
    assert checks["inotify"]["status"] == "warn" and "max_user_instances=128" in checks["inotify"]["detail"]
    assert "fs.inotify.max_user_instances=512" in checks["inotify"]["remedy"]
    assert checks["cgroup_v2"]["status"] == "warn"


def test_bad_options(tree, tmp_path):
    with pytest.raises(LabError, match="unknown check"):
        run(tree("kvm_host"), None, checks=["kvm", "warp_drive"])
    with pytest.raises(LabError, match="not a directory"):
        run(str(tmp_path / "nowhere"))


def test_needs_from_a_bundle_and_kind_table(tmp_path):
    files = {"clab.yml": (VM_LAB.encode(), 0o644),
             "host_vars/r1/topology.json": (json.dumps({"module": ["mpls", "lag"]}).encode(), 0o644)}
    bundle = str(tmp_path / "lab.tar.gz")
    atomic_write(bundle, bundle_bytes(files))
    needs = derive_needs(lab_nodes(bundle), ["br_netfilter"])
    assert needs["modules"] == {"bonding": ["lag on r1"], "br_netfilter": ["requested"],
                                "mpls_iptunnel": ["mpls on r1"], "mpls_router": ["mpls on r1"]}
    assert [n["kind"] for n in needs["nodes"]] == ["cisco_n9kv", "linux"]
    assert kind_needs("vr-n9kv")[:3] == kind_needs("cisco_n9kv")[:3] == (8192, 2, True)
    assert kind_needs("ceos")[:2] == (2048, 1)
    assert kind_needs("made_up_kind") == (1024, 1, False, False)


def test_bundle_without_clab_yml(tmp_path):
    bundle = str(tmp_path / "lab.tar.gz")
    atomic_write(bundle, bundle_bytes({"readme.txt": (b"x", 0o644)}))
    with pytest.raises(LabError, match="has no clab.yml"):
        lab_nodes(bundle)


def test_world_accessible_kvm_needs_no_passwd_entry(tree):
    root = tree("kvm_host")
    os.chmod(os.path.join(root, "dev", "kvm"), 0o666)
    check = by_name(run(root, None, checks=["kvm"], lab_user="ghost"))["kvm"]
    assert check["status"] == "ok" and "every user" in check["detail"], check


UNREADABLE_MARKS = ("cannot read", "cannot stat", "unexpected content", "has no MemTotal")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads this Linux host's own /proc and /sys")
def test_every_check_reads_what_it_needs_on_this_real_host(tmp_path):
    # the prepared trees hide how the kernel serves /proc/sys (it refuses a 4 MiB read)
    topology = lab(tmp_path, VM_LAB, {"r1": ["vrf", "mpls", "vxlan"]})
    out = prereqs.host_prereqs({"root": "/", "topology": topology, "lab_user": "root", "min_free_disk_gb": 0,
                                "modules": ["lag"]})
    checks = by_name(out)
    assert set(checks) == set(prereqs.CHECKS)
    for check in out["checks"]:
        assert not any(mark in check["detail"] for mark in UNREADABLE_MARKS), check
        assert "point root at" not in (check["remedy"] or ""), check


def test_kernel_without_module_support(tmp_path, tree):
    # e.g. a Firecracker guest kernel: no /proc/modules; a feature is there only if built in
    root = tree("kvm_host")
    os.unlink(os.path.join(root, "proc", "modules"))
    check = by_name(run(root, lab(tmp_path, CONTAINER_LAB), modules=["vrf", "nonexistent_mod"],
                        checks=["kernel_modules"]))["kernel_modules"]
    assert check["status"] == "fail" and "cannot load modules" in check["detail"], check
    assert "built in" in check["remedy"] and "cannot read" not in check["detail"]
