# -*- coding: utf-8 -*-
"""c9s_apply in a pod: no kubeconfig, only the pod's service account.

The process gets what the kubelet gives a pod (tests/controlplane/pod_identity.py, the way
the Clabernetes manager harness does it): KUBERNETES_SERVICE_HOST/PORT pointing at the real
kube-apiserver, and in a private mount namespace the service-account token, CA and namespace
files. The token is a real ServiceAccount token for an account that holds only the shipped
Role, so what works here is what works in the webhook's worker pod (deploy/kubernetes).
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest
from kubernetes import client

from tests.controlplane.fixtures import REPO_ROOT, lab_manifests, write_manifests
from tests.controlplane.pod_identity import SA_DIR, in_pod_argv, pod_env, require_unshare, service_account_files

pytestmark = pytest.mark.controlplane

ACCOUNT = "lab-runner"

PLAYBOOK = """
- name: c9s_apply with the pod's service account only
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Apply the lab as the service account
      skyforge.labs.c9s_apply:
        src: "{{ src }}"
      register: applied

    - name: Apply again
      skyforge.labs.c9s_apply:
        src: "{{ src }}"
      register: again

    - name: Ask for what the Role does not grant (proves whose token is used)
      skyforge.labs.c9s_apply:
        src: "{{ src }}"
        create_namespace: true
      register: forbidden
      ignore_errors: true

    - name: Remove by name; the namespace is the pod's own
      skyforge.labs.c9s_apply:
        lab_name: "{{ lab }}"
        state: absent
        wait_timeout: 60
      register: removed

    - name: Keep the results
      ansible.builtin.copy:
        content: "{{ {'applied': applied, 'again': again, 'forbidden': forbidden, 'removed': removed} | to_json }}"
        dest: "{{ results }}"
        mode: "0600"
"""


@pytest.fixture
def pod_identity(control_plane, admin_api, namespace, tmp_path):
    """The files the kubelet mounts for a pod of ServiceAccount ACCOUNT (the shipped Role)."""
    require_unshare()
    return pathlib.Path(service_account_files(control_plane, admin_api, namespace, ACCOUNT,
                                              tmp_path / "serviceaccount"))


def run_in_pod(control_plane, files, argv, tmp_path):
    """argv with a pod's environment: no kubeconfig anywhere, the service host and port set."""
    home = tmp_path / "home"
    home.mkdir()
    env = pod_env(control_plane, os.environ)
    env.update({
        "HOME": str(home),
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO_ROOT, ".skyforge", "collections"),
        "PYTHONPATH": os.path.join(REPO_ROOT, ".skyforge", "collections"),
        "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
    })
    return subprocess.run(in_pod_argv(files, argv), env=env, cwd=str(tmp_path), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=300, check=False)


def test_c9s_apply_in_a_pod_uses_its_service_account(control_plane, admin_api, namespace, pod_identity, tmp_path):
    lab = "incluster"
    src = write_manifests(tmp_path / "manifests.yml", lab_manifests(lab, namespace))
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(PLAYBOOK)
    results = tmp_path / "results.json"
    ansible = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    proc = run_in_pod(control_plane, pod_identity, [
        ansible, "-i", "localhost,", "-c", "local", str(playbook),
        "-e", json.dumps({"src": src, "lab": lab, "results": str(results)})], tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    out = json.loads(results.read_text())

    applied = out["applied"]
    assert applied["changed"] is True and applied["namespace"] == namespace
    assert {(o["kind"], o["action"]) for o in applied["objects"]} == {("ConfigMap", "created"), ("Topology", "created")}
    assert out["again"]["changed"] is False
    # the API server saw the pod's service account, and the Role does not cover namespaces
    forbidden = out["forbidden"]
    assert forbidden["failed"] is True
    assert 'User "system:serviceaccount:%s:%s"' % (namespace, ACCOUNT) in forbidden["msg"]
    assert "clusterrole-namespaces.yaml" in forbidden["msg"]
    # absent by lab name alone: the namespace came from the pod's namespace file
    removed = out["removed"]
    assert removed["namespace"] == namespace and removed["changed"] is True
    assert ("Topology", "deleted") in {(o["kind"], o["action"]) for o in removed["objects"]}
    left = client.CoreV1Api(admin_api).list_namespaced_config_map(
        namespace, label_selector="skyforge.labs/lab=%s" % lab).items
    assert left == []


def test_a_pod_without_a_mounted_token_is_told_so(control_plane, pod_identity, tmp_path):
    """automountServiceAccountToken: false and no kubeconfig: the error says what is missing."""
    (pod_identity / "token").unlink()
    code = ("from ansible_collections.skyforge.labs.plugins.module_utils.k8s.client import connect\n"
            "from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError\n"
            "try:\n    connect()\nexcept LabError as exc:\n    print(exc)\n")
    proc = run_in_pod(control_plane, pod_identity, [sys.executable, "-c", code], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "running in a pod (KUBERNETES_SERVICE_HOST is set)" in proc.stdout
    assert SA_DIR + "/token" in proc.stdout and "automountServiceAccountToken" in proc.stdout
