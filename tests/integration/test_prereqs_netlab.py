"""Needs derived from what the real netlab writes (clab.yml + host_vars), not a hand-made file."""

import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.images.check import images_from_nodes
from ansible_collections.skyforge.labs.plugins.module_utils.lab.source import lab_nodes
from ansible_collections.skyforge.labs.plugins.module_utils.host.prereqs import run_checks
from ansible_collections.skyforge.labs.plugins.module_utils.host.needs import derive_needs
from tests.fixtures.hosts import trees

pytestmark = pytest.mark.slow

TOPOLOGY = """
provider: clab
defaults.device: frr
module: [ospf, vrf, vxlan, vlan, lag, mpls]
vrfs:
  red:
vlans:
  v1:
    vrf: red
nodes:
  r1:
  r2:
    device: eos
  h1:
    device: linux
    module: []
links:
- r1:
  r2:
  vlan.access: v1
- lag:
    members: [r1-r2, r1-r2]
- r1-h1
"""


@pytest.fixture(scope="module")
def netlab_lab(tmp_path_factory):
    netlab = os.path.join(os.path.dirname(sys.executable), "netlab")
    if not os.path.exists(netlab):
        netlab = shutil.which("netlab")
    assert netlab, "netlab (PyPI networklab) must be installed in the venv"
    work = tmp_path_factory.mktemp("netlab")
    (work / "topology.yml").write_text(TOPOLOGY)
    env = dict(os.environ, HOME=str(work / "home"))
    proc = subprocess.run([netlab, "create", "topology.yml"], cwd=str(work), env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    return str(work / "clab.yml")


def test_needs_from_real_netlab_output(netlab_lab):
    nodes = lab_nodes(netlab_lab)
    assert [(n.name, n.kind) for n in nodes] == [("r1", "linux"), ("r2", "ceos"), ("h1", "linux")]
    needs = derive_needs(nodes)
    assert sorted(needs["modules"]) == ["bonding", "mpls_iptunnel", "mpls_router", "vrf", "vxlan"]
    assert "lag on r1" in needs["modules"]["bonding"] and "lag on r2" in needs["modules"]["bonding"]
    assert needs["vm_kinds"] == []
    assert needs["memory_mb"] == 256 + 2048 + 256
    images, users = images_from_nodes(nodes)
    assert "ceos:4.34.2F" in images and users["ceos:4.34.2F"] == ["r2"]


def test_real_lab_on_a_host_missing_modules(netlab_lab, tmp_path):
    root = trees.build("missing_modules", str(tmp_path / "host"))
    [check] = run_checks(root, derive_needs(lab_nodes(netlab_lab)), ["kernel_modules"], trees.LAB_USER)
    assert check["status"] == "fail"
    assert "vxlan: missing (for vxlan on r1, vxlan on r2)" in check["detail"]
