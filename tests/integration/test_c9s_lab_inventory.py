# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Day 2 against the real Clabernetes manager, per API generation: the multi-vendor lab
deployed, then `ansible-inventory -i lab.c9s_lab.yml --list` and lab_info see every node with
the Service the controller made and netlab's host variables; a lab deployed by something
else is never listed; a deleted lab's hosts are gone; an unreachable cluster or a namespace
the token may not read is an error naming it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import subprocess
import sys

import yaml

from ansible_collections.skyforge.labs.plugins.module_utils.c9s import service as c9s_apply
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.labs import list_labs
from ansible_collections.skyforge.labs.plugins.module_utils.k8s.client import Api, connect
from tests.controlplane.cluster import free_port
from tests.controlplane.fixtures import REPO_ROOT, apply_params
from tests.controlplane.manager_fixtures import MULTI_VENDOR
from tests.integration.test_c9s_apply_rbac import ACCESS_PLAYBOOK, grant

NODES = ["c1", "h1", "r1", "r2", "r3"]


def _inventory(tmp_path, config, what=("--list",)):
    """ansible-inventory on a lab.c9s_lab.yml holding config (AWX fails a source that does not
    parse; ANSIBLE_INVENTORY_UNPARSED_FAILED does the same here)."""
    path = tmp_path / "lab.c9s_lab.yml"
    path.write_text(yaml.safe_dump(dict({"plugin": "skyforge.labs.c9s_lab"}, **config)))
    environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO_ROOT, ".skyforge", "collections"),
                       ANSIBLE_NOCOLOR="1", ANSIBLE_INVENTORY_UNPARSED_FAILED="true",
                       ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", str(path)]
                          + list(what), cwd=str(tmp_path), env=environment, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120,
                          check=False)


def _playbook(tmp_path, config, play):
    """ansible-playbook with the c9s_lab source (as _inventory writes it) on one play."""
    (tmp_path / "play.yml").write_text(yaml.safe_dump([play]))
    environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO_ROOT, ".skyforge", "collections"),
                       ANSIBLE_NOCOLOR="1", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i",
                           str(tmp_path / "lab.c9s_lab.yml"), str(tmp_path / "play.yml")], cwd=str(tmp_path),
                          env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=300, check=False)


def _hostile_inventory(core, namespace, marker):
    """Rewrite the lab's inventory ConfigMap the way someone with write access to the namespace
    could: controller-side connection settings, a template, a host the Topology does not have."""
    cm = core.read_namespaced_config_map("multi-vendor-inventory", namespace)
    data = json.loads(cm.data["inventory.json"])
    data["nodes"]["r2"]["vars"].update(
        ansible_ssh_common_args="-o ProxyCommand='touch %s'" % marker,
        motd="{{ lookup('ansible.builtin.pipe', 'touch %s') }}" % marker)
    data["groups"]["eos"]["vars"]["ansible_connection"] = "local"
    data["nodes"]["evil"] = {"node": "evil", "vars": {}}
    core.patch_namespaced_config_map("multi-vendor-inventory", namespace,
                                     {"data": {"inventory.json": json.dumps(data)}})


def _plain(value):
    """ansible-inventory marks every string from the cluster unsafe (never templated): unwrap."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return dict((k, _plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _listed(proc):
    assert proc.returncode == 0, proc.stderr[-3000:]
    return _plain(json.loads(proc.stdout))


def _services(admin_api, mgr, namespace):
    """{node: clusterIP} of the non-fabric Services the controller made."""
    from kubernetes import client

    prefix = mgr.owner_label.split("/")[0]
    out = {}
    for svc in client.CoreV1Api(admin_api).list_namespaced_service(
            namespace, label_selector="%s=multi-vendor" % mgr.owner_label).items:
        labels = svc.metadata.labels or {}
        if labels.get("%s/topologyServiceType" % prefix) != "fabric":
            out[labels[mgr.node_label]] = svc.spec.cluster_ip
    return out


def _foreign_topology(admin_api, mgr, namespace):
    """A Topology made by someone else (no managed-by label), with a node name ours do not use."""
    from kubernetes import client

    group, version = mgr.api_version.split("/")
    body = {"apiVersion": mgr.api_version, "kind": "Topology",
            "metadata": {"name": "foreign", "labels": {"skyforge.labs/lab": "foreign"}},
            "spec": {"definition": {"containerlab": "name: foreign\ntopology:\n  nodes:\n    x9: {kind: linux, "
                                                    "image: alpine}\n"}}}
    client.CustomObjectsApi(admin_api).create_namespaced_custom_object(group, version, namespace, "topologies", body)


def test_inventory_and_lab_info_show_every_node_with_its_service_and_netlab_vars(
        control_plane, admin_api, c9s_manager, c9s_namespace, kubelet, c9s_lab, tmp_path):
    from kubernetes import client

    kubelet.run(boot=0.5, hold={"c1"})
    src, _rendered = c9s_lab()
    with open(c9s_lab.bundle(MULTI_VENDOR), "rb") as bundle:
        bundle_sha256 = hashlib.sha256(bundle.read()).hexdigest()
    c9s_apply.run(apply_params(control_plane.admin_kubeconfig, src=src, source_sha256=bundle_sha256))
    _foreign_topology(admin_api, c9s_manager, c9s_namespace)
    kubelet.wait_deployments(NODES, "multi-vendor", check=lambda found: all(
        n == "c1" or (d.status and d.status.ready_replicas) for n, d in found.items()))
    services = _services(admin_api, c9s_manager, c9s_namespace)
    assert sorted(services) == NODES and all(services.values())

    # credentials netlab generated live in the Secret, never in the ConfigMap
    core = client.CoreV1Api(admin_api)
    cm = core.read_namespaced_config_map("multi-vendor-inventory", c9s_namespace)
    assert "ansible_ssh_pass" not in json.dumps(cm.data) and "ansible_network_os" in json.dumps(cm.data)
    assert core.read_namespaced_secret("multi-vendor-inventory", c9s_namespace).data

    listed = _listed(_inventory(tmp_path, {"namespaces": [c9s_namespace],
                                           "kubeconfig": control_plane.admin_kubeconfig,
                                           "keyed_groups": [{"key": "ansible_network_os", "prefix": "os"}]}))
    hostvars = listed["_meta"]["hostvars"]
    assert sorted(hostvars) == NODES                              # x9 of the foreign Topology is not there
    for node in NODES:
        assert hostvars[node]["ansible_host"] == services[node], node
        assert hostvars[node]["c9s_namespace"] == c9s_namespace and hostvars[node]["c9s_lab"] == "multi-vendor"
    assert listed["lab_multi_vendor"]["hosts"] == NODES
    # netlab's groups and their variables (group vars, as netlab's own inventory has them)
    assert listed["eos"]["hosts"] == ["r2"] and listed["frr"]["hosts"] == ["r1"]
    assert listed["os_eos"]["hosts"] == ["r2"] and listed["os_ios"]["hosts"] == ["c1"]  # keyed_groups see group vars
    assert set(listed["modules"]["hosts"]) == {"r1", "r2", "r3", "h1"}
    config = {"namespaces": [c9s_namespace], "kubeconfig": control_plane.admin_kubeconfig}
    r2vars = _listed(_inventory(tmp_path, config, ("--host", "r2")))
    assert r2vars["ansible_network_os"] == "eos" and r2vars["ansible_connection"] == "network_cli"
    assert r2vars["ansible_user"] == "admin" and r2vars["ansible_ssh_pass"] == "admin"   # from the Secret
    assert r2vars["ansible_host"] == services["r2"]

    # lab_info: our lab only, per node launcher, Service and the controller's readiness
    api = Api(connect(kubeconfig=control_plane.admin_kubeconfig))
    try:
        (lab,) = list_labs(api, [c9s_namespace])
    finally:
        api.close()
    assert (lab["name"], lab["api_version"], lab["total_nodes"]) == ("multi-vendor", c9s_manager.api_version, 5)
    assert lab["inputs_sha256"] and lab["applied_sha256"] and lab["age_seconds"] >= 0
    assert lab["bundle_sha256"] == bundle_sha256                  # which bundle it came from
    nodes = dict((n["name"], n) for n in lab["nodes"])
    assert nodes["r2"]["kind"] == "ceos" and nodes["r2"]["service"]["cluster_ip"] == services["r2"]
    assert all(nodes[n]["launcher"] for n in NODES)
    assert not nodes["c1"]["ready"] and "controller reports" in nodes["c1"]["reason"]
    assert lab["ready"] is False

    # what the cluster says is data: no controller-side connection settings, no templating,
    # no host the Topology does not have
    marker = tmp_path / "pwned"
    _hostile_inventory(core, c9s_namespace, marker)
    proc = _inventory(tmp_path, config)
    hostvars = _listed(proc)["_meta"]["hostvars"]
    assert sorted(hostvars) == NODES and "evil" not in proc.stdout
    assert "ansible_ssh_common_args" not in hostvars["r2"] and hostvars["r2"].get("ansible_connection") != "local"
    assert "ansible_ssh_common_args dropped" in proc.stderr and "'evil', which the Topology does not have" in proc.stderr
    played = _playbook(tmp_path, config, {"name": "Read", "hosts": "localhost", "gather_facts": False,
                                          "tasks": [{"name": "Show", "ansible.builtin.debug": {
                                              "msg": "{{ hostvars['r2']['motd'] }}"}}]})
    assert played.returncode == 0, played.stdout[-3000:]
    assert "lookup('ansible.builtin.pipe'" in played.stdout and not marker.exists()

    cached = dict(config, cache=True, cache_plugin="ansible.builtin.jsonfile",
                  cache_connection=str(tmp_path / "cache"), cache_timeout=3600)
    assert sorted(_listed(_inventory(tmp_path, cached))["_meta"]["hostvars"]) == NODES

    # the lab deleted: its hosts are gone (the cache answers until flushed)
    c9s_apply.run(apply_params(control_plane.admin_kubeconfig, lab_name="multi-vendor", namespace=c9s_namespace,
                               state="absent", wait_timeout=120))
    assert sorted(_listed(_inventory(tmp_path, cached))["_meta"]["hostvars"]) == NODES
    assert _listed(_inventory(tmp_path, cached, ("--list", "--flush-cache")))["_meta"]["hostvars"] == {}
    assert _listed(_inventory(tmp_path, config))["_meta"]["hostvars"] == {}


def test_unreachable_cluster_and_forbidden_namespace_are_errors_naming_them(
        control_plane, c9s_manager, c9s_namespace, kubelet, c9s_lab, tmp_path):
    port = free_port()
    down = _inventory(tmp_path, {"host": "https://127.0.0.1:%d" % port, "api_key": "x", "validate_certs": False})
    assert down.returncode != 0
    assert "cannot reach the Kubernetes API at https://127.0.0.1:%d" % port in down.stderr, down.stderr[-2000:]

    src, _rendered = c9s_lab()
    c9s_apply.run(apply_params(control_plane.admin_kubeconfig, src=src))
    user = {"namespaces": [c9s_namespace], "kubeconfig": control_plane.user_kubeconfig}
    denied = _inventory(tmp_path, user)
    assert denied.returncode != 0
    assert "forbidden (403)" in denied.stderr and "in namespace %s" % c9s_namespace in denied.stderr, \
        denied.stderr[-2000:]

    # the shipped Role grants exactly what the inventory reads: the lab, its Services, ConfigMap and Secret
    (tmp_path / "access.yml").write_text(ACCESS_PLAYBOOK)
    assert grant(control_plane, tmp_path, c9s_namespace).returncode == 0
    listed = _listed(_inventory(tmp_path, user))
    assert sorted(listed["_meta"]["hostvars"]) == NODES
    assert listed["_meta"]["hostvars"]["r2"]["ansible_ssh_pass"] == "admin"
