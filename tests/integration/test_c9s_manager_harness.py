# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The manager harness itself: private mount namespace, one at a time, clean stop, CLI."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import ssl
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.controlplane import manager as mgr_mod
from tests.ci import unavailable
from tests.controlplane.manager import ALIVE_URL, LOCK_PATH, Manager, ManagerError, ManagerUnavailable

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GENERATION = "v0.6"  # the one the Go module proxy serves; the harness is the same for both


def _own_mounts():
    with open("/proc/self/mountinfo") as handle:
        return [line for line in handle if "skyforge-c9s" in line]


def _alive_status(mgr):
    context = ssl.create_default_context(cafile=mgr._ca_file)
    with urllib.request.urlopen(ALIVE_URL, timeout=5, context=context) as resp:
        return resp.status


def _lock_free():
    import fcntl

    fd = os.open(LOCK_PATH, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


@pytest.fixture()
def own_manager(control_plane, c9s_manager_slot, tmp_path):
    """A manager this test starts and stops itself (the shared one is stopped first)."""
    c9s_manager_slot.stop()
    mgr = Manager(control_plane, GENERATION, workdir=str(tmp_path / "manager"))
    try:
        mgr.start()
    except ManagerUnavailable as exc:
        unavailable(str(exc))
    yield mgr
    mgr.stop()


def test_manager_sees_in_cluster_files_only_in_its_private_namespace(own_manager):
    assert _alive_status(own_manager) == 200
    pid = own_manager.pid
    assert os.readlink("/proc/%d/ns/mnt" % pid) != os.readlink("/proc/self/ns/mnt")
    # the host has neither path, and none of the tmpfs mounts leaked into our namespace
    assert not os.path.exists("/clabernetes")
    assert not os.path.exists("/var/run/secrets/kubernetes.io")
    assert _own_mounts() == []
    # inside, the manager finds what in-cluster configuration needs
    root = "/proc/%d/root" % pid
    sa = root + "/var/run/secrets/kubernetes.io/serviceaccount"
    assert open(sa + "/namespace").read() == own_manager.namespace
    assert open(sa + "/ca.crt", "rb").read() == own_manager.cp.ca_pem
    for sub in ("ca", "client", "webhook"):
        assert sorted(os.listdir(root + "/clabernetes/certificates/" + sub)) == ["ca.crt", "tls.crt", "tls.key"]
    environ = open("/proc/%d/environ" % pid, "rb").read().split(b"\0")
    assert b"KUBERNETES_SERVICE_PORT=%d" % own_manager.cp.port in environ
    assert not any(e.startswith(b"KUBECONFIG=") for e in environ)


def test_only_one_manager_at_a_time(own_manager, control_plane, tmp_path):
    second = Manager(control_plane, GENERATION, workdir=str(tmp_path / "second"), binary=own_manager.binary)
    with pytest.raises(ManagerError) as info:
        second.start()
    message = str(info.value)
    assert "another Clabernetes manager is running" in message
    assert "pid %d" % own_manager.pid in message and "10443" in message
    assert own_manager.running() and _alive_status(own_manager) == 200


def test_stop_leaves_no_process_mount_or_lock(own_manager):
    pid = own_manager.pid
    own_manager.stop()
    assert not os.path.exists("/proc/%d" % pid)
    assert subprocess.run(["pgrep", "-g", str(pid)], stdout=subprocess.PIPE, check=False).stdout == b""
    assert _own_mounts() == []
    assert _lock_free()
    assert not mgr_mod.port_in_use()
    own_manager.stop()  # idempotent


def test_cli_up_and_down_beside_a_running_control_plane(control_plane, c9s_manager_slot):
    c9s_manager_slot.stop()
    env = dict(os.environ, PYTHONPATH=REPO)
    cli = [sys.executable, os.path.join(REPO, "tests", "controlplane", "manager.py")]
    up = subprocess.run(cli + ["up", "--dir", control_plane.workdir, "--version", GENERATION],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, env=env,
                        timeout=300, check=False)
    if up.returncode == 4:   # v0.6 is served by the proxy: unavailable only off CI (no Go)
        unavailable(str(ManagerUnavailable(up.stderr.strip(), GENERATION)))
    try:
        assert up.returncode == 0, up.stderr
        assert "clabernetes.containerlab.dev/v1alpha1" in up.stdout and "alive at" in up.stdout
        attached = Manager.attach(control_plane, os.path.join(control_plane.workdir, "manager"))
        assert attached.running()
        assert not _lock_free()  # the detached manager holds the lock itself
        again = subprocess.run(cli + ["up", "--dir", control_plane.workdir, "--version", GENERATION],
                               stdout=subprocess.PIPE, universal_newlines=True, env=env, timeout=60, check=False)
        assert again.returncode == 0 and "already running (pid %d)" % attached.pid in again.stdout
    finally:
        down = subprocess.run(cli + ["down", "--dir", control_plane.workdir], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, env=env, timeout=60, check=False)
    assert down.returncode == 0, down.stderr
    assert "stopped" in down.stdout
    assert not mgr_mod._proc_alive(attached.pid, "")  # gone, or a zombie until init reaps it
    assert _lock_free()


def test_cli_up_without_control_plane_says_how_to_start_one(tmp_path):
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable, os.path.join(REPO, "tests", "controlplane", "manager.py"), "up",
                           "--dir", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, env=env, timeout=60, check=False)
    assert proc.returncode == 1
    assert "no running control plane" in proc.stderr and "cluster.py up" in proc.stderr


def test_a_killed_test_run_takes_its_manager_along(control_plane, c9s_manager_slot, tmp_path):
    c9s_manager_slot.stop()
    script = (
        "import sys, time\n"
        "from tests.controlplane.cluster import ControlPlane\n"
        "from tests.controlplane.manager import Manager\n"
        "mgr = Manager(ControlPlane.attach(sys.argv[1]), %r, workdir=sys.argv[2]).start()\n"
        "print(mgr.pid, flush=True)\n"
        "time.sleep(600)\n" % GENERATION)
    runner = subprocess.Popen([sys.executable, "-c", script, control_plane.workdir, str(tmp_path / "m")],
                              stdout=subprocess.PIPE, universal_newlines=True, cwd=REPO,
                              env=dict(os.environ, PYTHONPATH=REPO))
    try:
        pid = int(runner.stdout.readline())
        assert mgr_mod._proc_alive(pid, "clabernetes")
    finally:
        runner.kill()  # SIGKILL: no teardown runs in the runner
        runner.wait()
        runner.stdout.close()
    deadline = time.monotonic() + 20
    while mgr_mod._proc_alive(pid, ""):
        assert time.monotonic() < deadline, "manager pid %d outlived its runner" % pid
        time.sleep(0.2)
    assert _lock_free() and _own_mounts() == []
