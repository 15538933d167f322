# -*- coding: utf-8 -*-
"""The unprivileged user (no RBAC bindings) against the real apiserver, through
ansible-playbook: without the shipped Role every step fails with a 403 that says what to
grant; with the Role bound by skyforge.labs.cluster_access it can apply, prune, wait and
delete. Where readiness is awaited the test plays the Clabernetes controller: it rewrites
the whole Topology with a status as the admin (Topologies have no status subresource).
"""

import json
import os
import re
import subprocess
import sys
import time

import pytest
from kubernetes import client

from ansible_collections.skyforge.labs.plugins.module_utils.c9s.service import run
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from tests.controlplane.fixtures import (
    REPO_ROOT, apply_params, lab_manifests, run_playbook, write_manifests)

pytest_plugins = ["tests.controlplane.fixtures"]
pytestmark = pytest.mark.controlplane

APPLY_PLAYBOOK = """
- name: Apply a rendered lab
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Apply
      skyforge.labs.c9s_apply:
        src: "{{ src }}"
        state: "{{ state | default('present') }}"
        wait: "{{ wait | default(false) }}"
        wait_timeout: "{{ wait_timeout | default(60) }}"
        create_namespace: "{{ create_namespace | default(false) }}"
        kubeconfig: "{{ kubeconfig }}"
      register: applied

    - name: Show the result
      ansible.builtin.debug:
        msg: "RESULT {{ applied | to_json }}"
"""

ACCESS_PLAYBOOK = """
- name: Grant lab access
  hosts: localhost
  gather_facts: false
  roles:
    - role: skyforge.labs.cluster_access
"""


def playbook_result(proc):
    match = re.search(r'^\s*"msg": ("RESULT .*")$', proc.stdout, re.M)
    assert match, proc.stdout[-3000:]
    return json.loads(json.loads(match.group(1))[len("RESULT "):])


@pytest.fixture()
def playbooks(tmp_path):
    (tmp_path / "apply.yml").write_text(APPLY_PLAYBOOK)
    (tmp_path / "access.yml").write_text(ACCESS_PLAYBOOK)
    return tmp_path


def grant(control_plane, playbooks, namespace, manage_namespaces=False):
    return run_playbook(str(playbooks / "access.yml"), {
        "cluster_access_namespace": namespace,
        "cluster_access_subjects": [{"kind": "User", "name": "lab-user"}],
        "cluster_access_manage_namespaces": manage_namespaces,
        "cluster_access_binding_name": "lab-user-" + namespace,
        "cluster_access_host": control_plane.server,
        "cluster_access_api_key": control_plane.admin_token,
        "cluster_access_ca_cert": control_plane.ca_file,
    }, playbooks)


def test_without_the_role_the_user_gets_a_403_naming_verb_resource_and_role(control_plane, namespace, tmp_path):
    src = write_manifests(tmp_path / "lab.yml", lab_manifests("demo", namespace))
    with pytest.raises(LabError) as err:
        run(apply_params(control_plane.user_kubeconfig, src=src))
    message = str(err.value)
    assert "forbidden (403)" in message and "'list' on 'configmaps'" in message
    assert "namespace %s" % namespace in message and "roles/cluster_access/files/role.yaml" in message
    with pytest.raises(LabError) as err:
        run(apply_params(control_plane.user_kubeconfig, lab_name="demo", namespace=namespace, state="absent"))
    assert "'list' on 'topologies.c9s.run'" in str(err.value)


def test_with_the_role_the_user_applies_prunes_waits_and_deletes(control_plane, admin_api, controller, namespace,
                                                                 playbooks):
    proc = grant(control_plane, playbooks, namespace)
    assert proc.returncode == 0, proc.stdout[-3000:]
    again = grant(control_plane, playbooks, namespace)
    assert again.returncode == 0 and re.search(r"changed=0 ", again.stdout), again.stdout[-2000:]

    user = control_plane.user_kubeconfig
    src = write_manifests(playbooks / "lab.yml", lab_manifests("demo", namespace, files={"demo-a1": {"f": "1"}}))
    first = run_playbook(str(playbooks / "apply.yml"), {"src": src, "kubeconfig": user}, playbooks)
    assert first.returncode == 0, first.stdout[-3000:]
    assert playbook_result(first)["changed"] is True
    second = run_playbook(str(playbooks / "apply.yml"), {"src": src, "kubeconfig": user}, playbooks)
    assert second.returncode == 0 and playbook_result(second)["changed"] is False
    assert re.search(r"changed=0 ", second.stdout)

    # check mode + diff through ansible: shows the change, touches nothing
    write_manifests(playbooks / "lab.yml", lab_manifests("demo", namespace, files={"demo-a2": {"f": "2"}}))
    checked = run_playbook(str(playbooks / "apply.yml"), {"src": src, "kubeconfig": user}, playbooks,
                           options=["--check", "--diff"])
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert "demo-a2" in checked.stdout and "ConfigMap/demo-a1" in checked.stdout, checked.stdout[-4000:]
    names = {cm.metadata.name for cm in client.CoreV1Api(admin_api).list_namespaced_config_map(namespace).items}
    assert "demo-a2" not in names and "demo-a1" in names

    # the real change, with wait: the test plays the controller while the playbook waits
    waiting = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
         str(playbooks / "apply.yml"), "-e", json.dumps({"src": src, "kubeconfig": user, "wait": True,
                                                         "wait_timeout": 60})],
        cwd=REPO_ROOT, env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO_ROOT, ".skyforge", "collections"),
                                ANSIBLE_NOCOLOR="1", ANSIBLE_PYTHON_INTERPRETER=sys.executable),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    try:
        deadline = time.monotonic() + 60
        while "demo-a2" not in str(controller.get("c9s.run/v1alpha1", "demo")["spec"]):
            assert time.monotonic() < deadline and waiting.poll() is None
            time.sleep(0.3)
        time.sleep(1)
        assert waiting.poll() is None, "returned before the controller reported anything"
        controller.set_ready("c9s.run/v1alpha1", "demo", {"r1": True, "r2": True})
        out = waiting.communicate(timeout=60)[0]
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.wait()
    assert waiting.returncode == 0, out[-3000:]
    applied = playbook_result(subprocess.CompletedProcess([], 0, out))
    assert applied["readiness"]["ready"] is True
    assert {"kind": "ConfigMap", "name": "demo-a1", "action": "deleted"} in applied["objects"]

    destroy = os.path.join(REPO_ROOT, "playbooks", "lab_destroy.yml")
    gone = run_playbook(destroy, {"lab_name": "demo", "namespace": namespace, "kubeconfig": user}, playbooks)
    assert gone.returncode == 0, gone.stdout[-3000:]
    assert "Topology/demo" in gone.stdout and re.search(r"changed=1 ", gone.stdout)
    assert client.CoreV1Api(admin_api).list_namespaced_config_map(
        namespace, label_selector="skyforge.labs/lab=demo").items == []
    twice = run_playbook(destroy, {"manifests": src, "kubeconfig": user}, playbooks)
    assert twice.returncode == 0 and re.search(r"changed=0 ", twice.stdout), twice.stdout[-3000:]


def test_namespace_creation_needs_the_cluster_role(control_plane, admin_api, namespace, playbooks):
    assert grant(control_plane, playbooks, namespace).returncode == 0
    target = namespace[:50] + "-new"
    src = write_manifests(playbooks / "lab.yml", lab_manifests("demo", target))
    denied = run_playbook(str(playbooks / "apply.yml"), {"src": src, "kubeconfig": control_plane.user_kubeconfig,
                                                         "create_namespace": True}, playbooks)
    assert denied.returncode != 0
    assert "forbidden (403)" in denied.stdout and "clusterrole-namespaces.yaml" in denied.stdout, denied.stdout[-3000:]

    assert grant(control_plane, playbooks, target, manage_namespaces=True).returncode != 0  # no namespace yet
    proc = grant(control_plane, playbooks, namespace, manage_namespaces=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    # namespace created by the user; the Role must then be bound there too before objects go in
    with pytest.raises(LabError) as err:
        run(apply_params(control_plane.user_kubeconfig, src=src, create_namespace=True))
    assert "forbidden (403)" in str(err.value) and "namespace %s" % target in str(err.value)
    labels = client.CoreV1Api(admin_api).read_namespace(target).metadata.labels
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    assert grant(control_plane, playbooks, target).returncode == 0
    result = run(apply_params(control_plane.user_kubeconfig, src=src, create_namespace=True))
    assert [o["action"] for o in result["objects"]] == ["created", "created"]
