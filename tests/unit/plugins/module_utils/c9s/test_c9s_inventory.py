# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory objects c9s_render adds to a lab: netlab's groups and host variables in a
ConfigMap, the credentials in a Secret, ansible_host left to the Service address."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os

import pytest
import yaml

from ansible_collections.skyforge.labs.plugins.module_utils.c9s import apply, manifests
from ansible_collections.skyforge.labs.plugins.module_utils.c9s import output as c9s
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError

CLAB = "name: twin\ntopology:\n  nodes:\n    r1: {kind: ceos, image: ceos:4}\n    h1: {kind: linux, image: alpine}\n"
HOSTS = """%YAML 1.1
---
all:
  hosts: {}
eos:
  hosts:
    r1: {ansible_host: 192.168.121.101, id: 1}
linux:
  hosts:
    h1: {ansible_host: clab-twin-h1, id: 2}
modules:
  hosts:
    r1: {}
"""
EOS_VARS = {"ansible_user": "admin", "ansible_ssh_pass": "admin", "ansible_network_os": "eos",
            "ansible_connection": "network_cli", "ansible_become_password": "en", "netlab_config_remove": ["x"],
            "features": {"a": 1}}


def _lab(root, hosts=True):
    os.makedirs(str(root))
    files = {"clab.yml": CLAB}
    if hosts:
        files.update({"hosts.yml": HOSTS, "group_vars/eos/topology.json": json.dumps(EOS_VARS),
                      "manifest.json": json.dumps({"inputs_sha256": "ab" * 32, "netlab_version": "26.10"})})
    for rel, text in files.items():
        path = os.path.join(str(root), rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)
    return str(root)


def _docs(path):
    with open(path) as handle:
        return [d for d in yaml.safe_load_all(handle) if d]


def test_netlab_vars_go_to_the_configmap_and_credentials_to_the_secret(tmp_path):
    dest = str(tmp_path / "m.yml")
    result = c9s.render(_lab(tmp_path / "lab"), dest, "ns")
    docs = _docs(dest)
    assert [d["kind"] for d in docs[-3:]] == ["ConfigMap", "Secret", "Topology"]
    assert result["inventory"] == [{"kind": "ConfigMap", "name": "twin-inventory"},
                                   {"kind": "Secret", "name": "twin-inventory"}]
    cm, secret = docs[-3], docs[-2]
    assert cm["metadata"]["labels"]["skyforge.labs/component"] == "inventory"
    assert secret["metadata"]["labels"]["skyforge.labs/component"] == "credentials"
    data = json.loads(cm["data"]["inventory.json"])
    assert data["groups"]["eos"] == {"hosts": ["r1"], "vars": {
        "ansible_user": "admin", "ansible_network_os": "eos", "ansible_connection": "network_cli"}}
    assert data["groups"]["modules"]["hosts"] == ["r1"] and data["groups"]["linux"]["hosts"] == ["h1"]
    assert data["nodes"]["r1"] == {"node": "r1", "vars": {"id": 1}}      # ansible_host: the Service's, later
    assert not [w for w in result["warnings"] if "dropped" in w]           # netlab's own variables all pass
    assert data["inputs_sha256"] == "ab" * 32
    assert "ansible_ssh_pass" not in cm["data"]["inventory.json"] and "become_password" not in cm["data"]["inventory.json"]
    creds = json.loads(base64.b64decode(secret["data"]["credentials.json"]))
    assert creds == {"groups": {"eos": {"ansible_ssh_pass": "admin", "ansible_become_password": "en"}}, "nodes": {}}
    # c9s_apply takes it; a diff never shows the credentials
    lab = manifests.load_manifests(dest)
    assert [s["metadata"]["name"] for s in lab.secrets] == ["twin-inventory"]
    assert apply.view(lab.secrets[0])["data"] == {"credentials.json": "(hidden)"}


def test_a_plain_containerlab_lab_gets_one_group_per_kind_and_no_secret(tmp_path):
    dest = str(tmp_path / "m.yml")
    c9s.render(_lab(tmp_path / "lab", hosts=False), dest, "ns")
    docs = _docs(dest)
    assert [d["kind"] for d in docs] == ["ConfigMap", "Topology"]
    data = json.loads(docs[0]["data"]["inventory.json"])
    assert {g: v["hosts"] for g, v in data["groups"].items()} == {"ceos": ["r1"], "linux": ["h1"]}


def test_a_broken_hosts_file_names_itself(tmp_path):
    root = _lab(tmp_path / "lab")
    with open(os.path.join(root, "group_vars/eos/topology.json"), "w") as handle:
        handle.write("{not json")
    with pytest.raises(LabError) as err:
        c9s.render(root, str(tmp_path / "m.yml"), "ns")
    assert "group_vars/eos/topology.json" in str(err.value) and "regenerate the lab" in str(err.value)


def test_two_secrets_in_a_manifests_file_are_refused(tmp_path):
    dest = str(tmp_path / "m.yml")
    c9s.render(_lab(tmp_path / "lab"), dest, "ns")
    docs = _docs(dest)
    extra = dict(docs[-2], metadata=dict(docs[-2]["metadata"], name="twin-other"))
    with open(dest, "w") as handle:
        yaml.safe_dump_all(docs[:-1] + [extra, docs[-1]], handle)
    with pytest.raises(LabError) as err:
        manifests.load_manifests(dest)
    assert "2 Secrets" in str(err.value)


def test_connection_variables_that_would_run_on_the_controller_are_not_published(tmp_path):
    """A bundle's group_vars can say anything; only netlab's own connection variables reach the
    ConfigMap, and the render says what it left out."""
    hostile = dict(EOS_VARS, ansible_ssh_common_args="-o ProxyCommand='touch /tmp/pwned'",
                   ansible_connection="local", ansible_ssh_private_key_file="/etc/shadow",
                   ansible_python_interpreter="/usr/bin/python3 -c 'import os'")
    root = _lab(tmp_path / "lab")
    with open(os.path.join(root, "group_vars/eos/topology.json"), "w") as handle:
        json.dump(hostile, handle)
    dest = str(tmp_path / "m.yml")
    result = c9s.render(root, dest, "ns")
    text = open(dest).read()
    for word in ("ProxyCommand", "local", "shadow", "import os"):
        assert word not in text, word
    data = json.loads(_docs(dest)[-3]["data"]["inventory.json"])
    assert data["groups"]["eos"]["vars"] == {"ansible_user": "admin", "ansible_network_os": "eos"}
    dropped = [w for w in result["warnings"] if w.startswith("group eos:")]
    assert len(dropped) == 4 and any("ansible_ssh_common_args dropped" in w for w in dropped)
    assert any("ansible_connection='local' dropped" in w for w in dropped)


@pytest.mark.parametrize("name, value, kept", [
    ("ansible_connection", "network_cli", True), ("ansible_connection", "ansible.netcommon.httpapi", True),
    ("ansible_connection", "local", False), ("ansible_connection", "community.general.chroot", False),
    ("ansible_network_os", "arista.eos.eos", True), ("ansible_network_os", "eos; rm -rf /", False),
    ("ansible_python_interpreter", "auto_silent", True), ("ansible_python_interpreter", "/usr/bin/python3", True),
    ("ansible_python_interpreter", "/usr/bin/env python3 -c x", False),
    ("ansible_port", 830, True), ("ansible_port", "22", False), ("ansible_port", True, False),
    ("ansible_become_method", "enable", True), ("ansible_become_method", "community.general.doas", False),
    ("ansible_ssh_pass", "a\nb", False), ("ansible_shell_executable", "/bin/sh", False),
    ("ansible_docker_extra_args", "--privileged", False), ("id", 7, True), ("loopback", "10.0.0.1", True),
    ("bad name", 1, False), ("nested", {"a": 1}, False),
])
def test_the_allow_list_decides_by_name_and_value(name, value, kept):
    from ansible_collections.skyforge.labs.plugins.module_utils.c9s.inventory_vars import clean

    variables, dropped = clean({name: value}, "node r1")
    assert (variables == {name: value}) is kept
    assert bool(dropped) is not kept and all(m.startswith("node r1: ") for m in dropped)
