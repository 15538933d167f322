# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a user runs: lab_deploy.yml and lab_destroy.yml, against the real Clabernetes manager."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

from tests.controlplane.manager_fixtures import MULTI_VENDOR

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _playbook(name, control_plane, **extra_vars):
    argv = [os.path.join(REPO, ".venv", "bin", "ansible-playbook"), "-i", os.path.join(REPO, "inventories", "local"),
            os.path.join(REPO, "playbooks", name), "-e", "kubeconfig=" + control_plane.admin_kubeconfig]
    for key, value in sorted(extra_vars.items()):
        argv += ["-e", "%s=%s" % (key, value)]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".skyforge", "collections"),
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false", ANSIBLE_NOCOLOR="1")
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, cwd=REPO, env=env, timeout=600, check=False)


def test_lab_deploy_waits_for_the_controller_and_lab_destroy_removes_what_we_own(
        control_plane, c9s_manager, c9s_namespace, kubelet, tmp_path):
    from kubernetes import client

    kubelet.run(boot=0.5, hold={"c1"})  # the VM-based node takes longest to boot
    deploy = _playbook("lab_deploy.yml", control_plane, topology=MULTI_VENDOR, output_dir=str(tmp_path / "out"),
                       namespace=c9s_namespace, api_version=c9s_manager.api_version, create_namespace="false",
                       wait_timeout=12)
    assert deploy.returncode == 2, deploy.stdout[-3000:]
    assert "not ready after 12s" in deploy.stdout and "c1 ready 0/1" in deploy.stdout

    kubelet.release("c1")
    deploy = _playbook("lab_deploy.yml", control_plane, topology=MULTI_VENDOR, output_dir=str(tmp_path / "out"),
                       namespace=c9s_namespace, api_version=c9s_manager.api_version, create_namespace="false",
                       wait_timeout=120)
    assert deploy.returncode == 0, deploy.stdout[-3000:]
    assert "multi-vendor in %s (%s)" % (c9s_namespace, c9s_manager.api_version) in deploy.stdout
    assert "5/5 nodes ready" in deploy.stdout
    assert sorted(kubelet.deployments("multi-vendor")) == ["c1", "h1", "r1", "r2", "r3"]

    launchers = {d.metadata.name for d in kubelet.deployments("multi-vendor").values()}
    destroy = _playbook("lab_destroy.yml", control_plane, lab_name="multi-vendor", namespace=c9s_namespace)
    assert destroy.returncode == 0, destroy.stdout[-3000:]
    # it reports what it deleted, and what went with the Topology (nothing of the lab is left)
    assert "multi-vendor in %s: Topology/multi-vendor, ConfigMap/" % c9s_namespace in destroy.stdout
    report = destroy.stdout.split("removed with it by the garbage collector: ", 1)[1].split('"', 1)[0]
    assert {"Deployment/%s" % name for name in launchers} <= set(report.split(", ")), report
    assert kubelet.deployments("multi-vendor") == {}
    selector = "app.kubernetes.io/managed-by=skyforge.labs,skyforge.labs/lab=multi-vendor"
    core = client.CoreV1Api(control_plane.api_client())
    try:
        assert core.list_namespaced_config_map(c9s_namespace, label_selector=selector).items == []
    finally:
        core.api_client.close()
    again = _playbook("lab_destroy.yml", control_plane, lab_name="multi-vendor", namespace=c9s_namespace)
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout[-3000:]
