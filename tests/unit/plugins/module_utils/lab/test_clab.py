# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which host files each node of a containerlab topology uses."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import random
import textwrap

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.lab import clab
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError

LAYERED = textwrap.dedent("""\
    name: layered
    topology:
      defaults:
        kind: linux
        binds:
          - common/motd:/etc/motd
          - common/__clabNodeName__.env:/etc/node.env
          - __clabDir__/topology-data.json:/data.json
      kinds:
        ceos:
          startup-config: configs/__clabNodeName__.cfg
          license: licenses/ceos.lic
          binds:
            - kinds/motd:/etc/motd:ro
      groups:
        spine:
          binds:
            - groups/spine.conf:/etc/role.conf
      nodes:
        r1:
          kind: ceos
        r2:
          kind: ceos
          group: spine
          startup-config: |
            hostname r2
            !
          binds:
            - node/r2-motd:/etc/motd
        h1:
          binds:
            - /etc/hosts:/etc/hosts:ro
            - ~/keys/id.pub:/root/.ssh/authorized_keys
        h2:
          startup-config: https://example.com/h2.cfg
""")


@pytest.fixture()
def layered(tmp_path):
    path = tmp_path / "clab.yml"
    path.write_text(LAYERED)
    return clab.load_clab(str(path))


def _by_target(refs):
    return dict((ref.target or ref.role, ref) for ref in refs)


def test_most_specific_bind_wins_per_container_path(layered):
    r1 = _by_target(clab.node_files(layered, "r1"))
    assert r1["/etc/motd"].source == "kinds/motd"
    assert r1["/etc/motd"].level == "kinds" and r1["/etc/motd"].read_only
    r2 = _by_target(clab.node_files(layered, "r2"))
    assert r2["/etc/motd"].source == "node/r2-motd"
    assert r2["/etc/role.conf"].level == "groups"


def test_kind_level_startup_config_and_license_expand_the_node_name(layered):
    r1 = _by_target(clab.node_files(layered, "r1"))
    assert r1["startup-config"].source == "configs/r1.cfg"
    assert r1["startup-config"].level == "kinds"
    assert r1["license"].source == "licenses/ceos.lic"
    assert r1["/etc/node.env"].source == "common/r1.env"


def test_inline_and_url_startup_configs_are_not_files(layered):
    assert "startup-config" not in _by_target(clab.node_files(layered, "r2"))
    assert "startup-config" not in _by_target(clab.node_files(layered, "h2"))


def test_node_files_of_all_nodes_without_runtime_paths(layered):
    sources = set(ref.source for refs in clab.all_node_files(layered).values() for ref in refs
                  if not clab.is_runtime_path(ref.source))
    assert sorted(sources) == [
        "/etc/hosts", "common/h1.env", "common/h2.env", "common/motd", "common/r1.env",
        "common/r2.env", "configs/r1.cfg", "groups/spine.conf", "kinds/motd",
        "licenses/ceos.lic", "node/r2-motd", "~/keys/id.pub",
    ]


def test_lab_relpath_classifies_outside_paths():
    assert clab.lab_relpath("./node_files/r1/x") == "node_files/r1/x"
    for outside in ("/etc/hosts", "~/x", "../x", "a/../../x", "__clabDir__/x", "."):
        assert clab.lab_relpath(outside) is None


def test_missing_file_invalid_yaml_and_non_topology(tmp_path):
    with pytest.raises(LabError, match="cannot read"):
        clab.load_clab(str(tmp_path / "nope.yml"))
    bad = tmp_path / "bad.yml"
    bad.write_text("topology: [unclosed\n")
    with pytest.raises(LabError, match="not valid YAML"):
        clab.load_clab(str(bad))
    other = tmp_path / "other.yml"
    other.write_text("name: x\nkind: srl\n")
    with pytest.raises(LabError, match="no 'topology' mapping"):
        clab.load_clab(str(other))
    netlab = tmp_path / "topology.yml"
    netlab.write_text("provider: clab\nnodes: [r1, r2]\nlinks: [r1-r2]\n")
    with pytest.raises(LabError, match="is a netlab topology, not the containerlab one: generate the lab first"):
        clab.load_clab(str(netlab))


def test_malformed_bind_names_the_node(tmp_path):
    path = tmp_path / "clab.yml"
    path.write_text("topology:\n  nodes:\n    r1:\n      binds: ['a:b:ro:extra']\n")
    with pytest.raises(LabError, match="node r1"):
        clab.node_files(clab.load_clab(str(path)), "r1")


def test_lab_relpath_is_normpath_for_random_relative_paths():
    """lab_relpath skips posixpath.normpath for paths that are already normal; the result
    must be what normpath gives for every path it keeps."""
    rng = random.Random(15)
    parts = ["a", ".", "..", "", "b.c", "..x", ".x", "x.", "...", "n1", "__clabNodeName__"]
    for _round in range(20000):
        source = "/".join(rng.choice(parts) for _part in range(rng.randrange(1, 6)))
        normal = posixpath.normpath(source)
        outside = not source or source.startswith("/") or normal in (".", "..") or normal.startswith("../")
        expected = None if outside else normal
        assert clab.lab_relpath(source) == expected, source
