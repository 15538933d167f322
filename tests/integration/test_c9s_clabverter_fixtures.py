# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Upstream's own fixtures as a second opinion: every containerlab topology under
clabverter/test-fixtures/ of the vendored Clabernetes v0.8.0 archive, rendered with c9s_render,
applied to the real v0.8 controller, and its mounts compared with clabverter's golden output.

Every difference is listed in DIFFERENCES with the reason it is right; the test fails on any
other (and on a listed one that disappears), so the list stays complete and true.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import tarfile
import time

import pytest
import yaml

from ansible_collections.skyforge.labs.plugins.module_utils.c9s import output as c9s
from ansible_collections.skyforge.labs.plugins.module_utils.lab.source import CLAB_FILE
from ansible_collections.skyforge.labs.plugins.module_utils.c9s import service as c9s_apply
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.wait import definition_nodes
from tests.integration.test_c9s_manager_lab import (
    _configmap_bytes, _docs, _get_topology, _our_mounts, _params, _promised)

pytestmark = pytest.mark.parametrize("c9s_manager", ["v0.8"], indirect=True)

ARCHIVE_TOP = "clabernetes-v0.8.0/clabverter/test-fixtures/"
GOLDEN_HOST_DIR = "/some/dir/clabernetes/clabverter/test-fixtures/clabversiontest/"
# (fixture, topology dir, golden Topology file)
FIXTURES = {
    "simple": ("clabversiontest", "golden/simple/topo01.yaml"),
    "inline-startup-config": ("inline-startup-config", "golden/inline-startup-config/inline-config-test.yaml"),
}
# (fixture, node, "golden only" | "ours only", mount path) -> why the difference is right
DIFFERENCES = {
    ("simple", "srl2", "golden only", GOLDEN_HOST_DIR + "potato.txt"):
        "bind __clabDir__/potato.txt: clabverter reads __clabDir__ as the topology's directory and "
        "mounts the file at that host path, where containerlab never looks (it expands __clabDir__ "
        "to its own lab directory clab-topo01/ at deploy time); c9s_render mounts nothing and warns",
    ("simple", "srl2", "golden only", GOLDEN_HOST_DIR + "srl2/potato.txt"):
        "bind __clabNodeDir__/potato.txt: the same, for containerlab's per-node directory",
    ("inline-startup-config", "srl1", "golden only", "/clabernetes/startup-config"):
        "inline startup-config: clabverter moves it into a ConfigMap and rewrites the definition; "
        "c9s_render leaves it inline in the definition, where containerlab reads it (no file needed)",
    ("inline-startup-config", "sros1", "golden only", "/clabernetes/startup-config"):
        "inline startup-config, as for srl1",
}


@pytest.fixture(scope="session")
def upstream_fixtures(tmp_path_factory):
    """clabverter/test-fixtures/ extracted from the vendored archive (regular files only)."""
    from tests.controlplane.cluster import shared_dir

    archive = os.path.join(shared_dir(), "vendor", "clabernetes", "clabernetes-v0.8.0.tar.gz")
    if not os.path.isfile(archive):
        pytest.fail("the vendored Clabernetes archive is missing: %s (set SKYFORGE_SHARED)" % archive)
    out = tmp_path_factory.mktemp("clabverter-fixtures")
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.startswith(ARCHIVE_TOP) and ".." not in member.name:
                target = out / member.name[len(ARCHIVE_TOP):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(tar.extractfile(member).read())
    return out


def _golden_mounts(path):
    with open(str(path)) as handle:
        topology = yaml.safe_load(handle)
    out = {}
    for node, entries in (topology["spec"]["deployment"]["filesFromConfigMap"] or {}).items():
        out[node] = {e["filePath"] if e["filePath"].startswith("/") else "/clabernetes/" + e["filePath"]
                     for e in entries}
    return out


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_upstream_fixture_is_accepted_and_mounts_what_clabverter_mounts_but_the_listed_differences(
        control_plane, admin_api, c9s_manager, c9s_namespace, kubelet, upstream_fixtures, tmp_path, fixture):
    from kubernetes import client

    directory, golden = FIXTURES[fixture]
    lab = tmp_path / "lab"
    shutil.copytree(str(upstream_fixtures / directory), str(lab))
    (lab / "clab.yaml").rename(lab / CLAB_FILE)  # the name netlab writes and c9s_render reads
    dest = str(tmp_path / "manifests.yml")
    rendered = c9s.render(str(lab), dest, c9s_namespace, api_version=c9s_manager.api_version,
                          return_details=True)
    if fixture == "simple":
        assert any("__clabDir__/potato.txt (node srl2)" in w and "__clabNodeDir__/potato.txt (node srl2)" in w
                   for w in rendered["warnings"]), rendered["warnings"]

    offset = c9s_manager.log_offset()
    c9s_apply.run(_params(control_plane, dest))
    topology = [d for d in _docs(dest) if d["kind"] == "Topology"][0]
    nodes = definition_nodes(topology)
    deployments = kubelet.wait_deployments(nodes, topology["metadata"]["name"], timeout=90)
    # accepted: compiled without errors, every Node realised as a launcher, every wire a Link.
    # (The controller may log a Link whose Node it has not created yet: Links come first.)
    assert c9s_manager.definition_errors(offset) == []
    wires = len(yaml.safe_load(topology["spec"]["definition"]["containerlab"])["topology"].get("links") or [])
    deadline = time.monotonic() + 60
    while True:
        status = _get_topology(admin_api, c9s_manager, c9s_namespace, topology["metadata"]["name"]).get("status") or {}
        if (status.get("nodeCount"), status.get("linkCount")) == (len(nodes), wires):
            break
        assert time.monotonic() < deadline, status
        time.sleep(0.5)

    ours = {d["metadata"]["name"] for d in _docs(dest) if d["kind"] == "ConfigMap"}
    core = client.CoreV1Api(admin_api)
    mine = {}
    for node, deployment in deployments.items():
        mounts = _our_mounts(deployment, ours)
        assert mounts == _promised(rendered, node), node
        mine[node] = {m[0] for m in mounts}
        for path, cm, key, _mode in mounts:  # byte for byte the fixture's file
            assert _configmap_bytes(core, c9s_namespace, cm, key) == (lab / path[len("/clabernetes/"):]).read_bytes()
    theirs = _golden_mounts(upstream_fixtures / golden)
    differences = set()
    for node in sorted(set(mine) | set(theirs)):
        differences |= {(fixture, node, "golden only", p) for p in theirs.get(node, set()) - mine.get(node, set())}
        differences |= {(fixture, node, "ours only", p) for p in mine.get(node, set()) - theirs.get(node, set())}
    listed = {key for key in DIFFERENCES if key[0] == fixture}
    assert differences == listed, "unlisted: %s; listed but gone: %s" % (
        sorted(differences - listed), sorted(listed - differences))
    assert any(theirs.values())  # the comparison compares something
