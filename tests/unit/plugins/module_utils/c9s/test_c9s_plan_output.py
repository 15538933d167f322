# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rendering labs into ConfigMaps + Topology, checked against the real Clabernetes CRDs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import io
import json
import os
import subprocess
import tarfile
import tempfile
import textwrap

import jsonschema
import pytest
import yaml

from tests.ci import unavailable
from ansible_collections.skyforge.labs.plugins.module_utils.c9s import output as c9s, plan
from ansible_collections.skyforge.labs.plugins.module_utils.c9s import pack as configmaps
from ansible_collections.skyforge.labs.plugins.module_utils.lab import bundle, source
from ansible_collections.skyforge.labs.plugins.module_utils.common import names
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.common.files import atomic_write, sha256_bytes

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".."))
NETLAB = os.path.join(REPO, ".venv", "bin", "netlab")
CRD_FILES = {
    "c9s.run/v1alpha1": "c9s.run_topologies.yaml",
    "clabernetes.containerlab.dev/v1alpha1": "clabernetes.containerlab.dev_topologies.yaml",
}


# ------------------------------------------------------------------ CRD schema

def _crd_dir():
    shared = os.environ.get("SKYFORGE_SHARED") or os.path.join(REPO, "..", "shared")
    return os.path.join(shared, "reference", "clabernetes")


def _strict(schema):
    """The CRD's structural schema as JSON Schema: the API server prunes unknown fields
    silently, so reject them here instead (a typo must fail the test, not vanish);
    x-kubernetes-int-or-string and nullable translated, other x-kubernetes-* ignored."""
    schema = dict(schema)
    if schema.get("x-kubernetes-int-or-string"):
        schema["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("nullable") and "type" in schema:
        schema["type"] = [schema["type"], "null"]
    if "properties" in schema:
        schema["properties"] = dict((k, _strict(v)) for k, v in schema["properties"].items())
        if "additionalProperties" not in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema["additionalProperties"] = False
    if isinstance(schema.get("additionalProperties"), dict):
        schema["additionalProperties"] = _strict(schema["additionalProperties"])
    if isinstance(schema.get("items"), dict):
        schema["items"] = _strict(schema["items"])
    return schema


@pytest.fixture(scope="session")
def crd_validators():
    directory = _crd_dir()
    validators = {}
    for api_version, filename in CRD_FILES.items():
        path = os.path.join(directory, filename)
        if not os.path.isfile(path):
            unavailable("Clabernetes CRD %s not found (set SKYFORGE_SHARED to the shared dir)" % path)
        with open(path) as handle:
            crd = yaml.safe_load(handle)
        group, version = api_version.split("/")
        assert crd["spec"]["group"] == group
        served = [v for v in crd["spec"]["versions"] if v["name"] == version]
        schema = _strict(served[0]["schema"]["openAPIV3Schema"])
        validators[api_version] = jsonschema.Draft7Validator(schema)
    return validators


def assert_valid_topology(validators, topology):
    errors = sorted(validators[topology["apiVersion"]].iter_errors(topology), key=str)
    assert not errors, "\n".join("%s: %s" % (list(e.path), e.message) for e in errors)
    assert "status" not in topology


# ------------------------------------------------------------------ helpers

def make_lab(root, clab_text, files):
    os.makedirs(str(root), exist_ok=True)
    with open(os.path.join(str(root), "clab.yml"), "w") as handle:
        handle.write(textwrap.dedent(clab_text))
    for relpath, content in files.items():
        mode = 0o644
        if isinstance(content, tuple):
            content, mode = content
        if isinstance(content, str):
            content = content.encode("utf-8")
        path = os.path.join(str(root), relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(content)
        os.chmod(path, mode)
    return str(root)


INVENTORY_COMPONENTS = ("inventory", "credentials")


def load_docs(path):
    """(the ConfigMaps of the lab's files, the Topology); the inventory objects (c9s.inventory,
    tested in test_c9s_inventory.py) must sit between them."""
    with open(path, "rb") as handle:
        docs = list(yaml.safe_load_all(handle.read().decode("utf-8")))
    assert docs[-1]["kind"] == "Topology"
    components = [doc["metadata"]["labels"]["skyforge.labs/component"] for doc in docs[:-1]]
    files = [doc for doc, c in zip(docs[:-1], components) if c not in INVENTORY_COMPONENTS]
    assert components[len(files):] and all(c in INVENTORY_COMPONENTS for c in components[len(files):])
    assert all(doc["kind"] == "ConfigMap" for doc in files)
    return files, docs[-1]


def mounted_content(configmap_docs, mount):
    """The bytes a launcher pod would see at a filesFromConfigMap entry."""
    cm = [c for c in configmap_docs if c["metadata"]["name"] == mount["configMapName"]][0]
    key = mount["configMapPath"]
    if key in cm.get("data", {}):
        return cm["data"][key].encode("utf-8")
    return base64.b64decode(cm["binaryData"][key])


def read(root, relpath):
    with open(os.path.join(root, relpath), "rb") as handle:
        return handle.read()


def render(lab, tmp_path, **options):
    dest = str(tmp_path / ("out-%d.yml" % len(os.listdir(str(tmp_path)))))
    options.setdefault("return_details", True)
    result = c9s.render(lab, dest, options.pop("namespace", "lab-ns"), **options)
    configmap_docs, topology = load_docs(dest)
    return result, configmap_docs, topology, dest


def netlab_create(workdir, topology_text):
    if not os.path.exists(NETLAB):
        unavailable("netlab is not installed in %s" % NETLAB)
    os.makedirs(workdir)
    with open(os.path.join(workdir, "topology.yml"), "w") as handle:
        handle.write(textwrap.dedent(topology_text))
    home = tempfile.mkdtemp(prefix="netlab-home-")
    proc = subprocess.run([NETLAB, "create", "-p", "clab", "topology.yml"], cwd=workdir,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, check=False,
                          env=dict(os.environ, HOME=home))
    assert proc.returncode == 0, proc.stderr
    return workdir


@pytest.fixture(scope="module")
def frr_lab(tmp_path_factory):
    return netlab_create(str(tmp_path_factory.mktemp("frr") / "lab"), """\
        defaults.device: frr
        module: [ospf]
        nodes: [r1, r2, r3]
        links: [r1-r2, r2-r3, r3-r1]
        """)


@pytest.fixture(scope="module")
def multivendor_lab(tmp_path_factory):
    return netlab_create(str(tmp_path_factory.mktemp("mv") / "lab"), """\
        module: [ospf]
        nodes:
          r1: { device: eos }
          r2: { device: frr }
          s1: { device: srlinux }
          h1: { device: linux }
          h2: { device: linux }
        links: [r1-r2, r2-s1, {r1: {}, h1: {}, h2: {}}]
        """)


# ------------------------------------------------------------------ netlab labs

@pytest.mark.parametrize("api_version", sorted(CRD_FILES))
def test_netlab_frr_lab_delivers_every_bound_file(frr_lab, tmp_path, crd_validators, api_version):
    result, cms, topo, _dest = render(frr_lab, tmp_path, api_version=api_version)
    assert_valid_topology(crd_validators, topo)
    assert topo["apiVersion"] == api_version
    assert topo["spec"]["definition"]["containerlab"] == read(frr_lab, "clab.yml").decode()
    assert topo["spec"]["statusProbes"] == {"enabled": False}
    mounts = topo["spec"]["deployment"]["filesFromConfigMap"]
    assert sorted(mounts) == ["r1", "r2", "r3"]
    for node in ("r1", "r2", "r3"):
        paths = dict((m["filePath"], m) for m in mounts[node])
        assert set(paths) == {"node_files/%s/%s" % (node, f) for f in ("initial", "ospf", "daemons")} | \
            {"node_files/-shared-hosts"}
        for path, mount in paths.items():
            assert mounted_content(cms, mount) == read(frr_lab, path)
            executable = os.stat(os.path.join(frr_lab, path)).st_mode & 0o111
            assert mount["mode"] == ("execute" if executable else "read")
    assert result["mounts"] == mounts
    # the shared hosts file and the identical daemons files are stored once
    keys = [k for cm in cms for k in cm.get("data", {})]
    assert len(keys) == len(set(keys))
    hosts_keys = set(m["configMapPath"] for n in mounts for m in mounts[n] if m["filePath"].endswith("hosts"))
    assert len(hosts_keys) == 1
    assert any("/etc/hosts" in w for w in result["warnings"])


def test_netlab_multivendor_renames_bridge_and_warns(multivendor_lab, tmp_path, crd_validators):
    result, _cms, topo, _dest = render(multivendor_lab, tmp_path)
    assert_valid_topology(crd_validators, topo)
    bridge = list(result["renamed_nodes"])
    assert len(bridge) == 1 and "_" in bridge[0]
    new = result["renamed_nodes"][bridge[0]]
    definition = yaml.safe_load(topo["spec"]["definition"]["containerlab"])
    assert new in definition["topology"]["nodes"] and bridge[0] not in definition["topology"]["nodes"]
    endpoints = [ep.split(":")[0] for link in definition["topology"]["links"] for ep in link["endpoints"]]
    assert bridge[0] not in endpoints and endpoints.count(new) == 3
    assert all(names.is_label(n) for n in definition["topology"]["nodes"])
    text = "\n".join(result["warnings"])
    assert "rejects kind 'bridge'" in text
    assert "ip netns exec" in text and "h1 (initial, routing)" in text
    v06 = render(multivendor_lab, tmp_path, api_version="clabernetes.containerlab.dev/v1alpha1")[0]
    assert not any("rejects kind 'bridge'" in w for w in v06["warnings"])


# ------------------------------------------------------------------ synthetic labs

LAYERED = """\
    name: layered
    topology:
      defaults:
        binds:
          - shared/motd:/etc/motd
      kinds:
        ceos:
          startup-config: configs/__clabNodeName__.cfg
          license: licenses/ceos.lic
        linux:
          binds:
            - scripts/setup.sh:/usr/local/bin/setup.sh
      nodes:
        r1: { kind: ceos }
        r2:
          kind: ceos
          startup-config: |
            hostname r2
            !
        h1:
          kind: linux
          binds:
            - shared/motd:/etc/motd
            - tree:/opt/tree
            - /lib/modules:/lib/modules:ro
      links:
        - endpoints: ["r1:eth1", "r2:eth1"]
    """
LAYERED_FILES = {
    "shared/motd": "welcome\n",
    "configs/r1.cfg": "hostname r1\n",
    "configs/r2.cfg": "unused: r2 has an inline config\n",
    "licenses/ceos.lic": b"\x00\x01LICENSE\xff",
    "scripts/setup.sh": ("#!/bin/sh\necho hi\n", 0o755),
    "tree/a.txt": "a\r\nwindows line\r\n",
    "tree/sub/b.bin": b"\xde\xad\xbe\xef" * 100,
}


def test_defaults_and_kinds_level_files_are_delivered(tmp_path, crd_validators):
    lab = make_lab(tmp_path / "lab", LAYERED, LAYERED_FILES)
    result, cms, topo, _dest = render(lab, tmp_path)
    assert_valid_topology(crd_validators, topo)
    mounts = topo["spec"]["deployment"]["filesFromConfigMap"]
    expect = {
        "r1": {"shared/motd", "configs/r1.cfg", "licenses/ceos.lic"},
        "r2": {"shared/motd", "licenses/ceos.lic"},
        "h1": {"shared/motd", "scripts/setup.sh", "tree/a.txt", "tree/sub/b.bin"},
    }
    for node, paths in expect.items():
        assert set(m["filePath"] for m in mounts[node]) == paths
        for mount in mounts[node]:
            assert mounted_content(cms, mount) == read(lab, mount["filePath"])
    modes = dict((m["filePath"], m["mode"]) for m in mounts["h1"])
    assert modes["scripts/setup.sh"] == "execute" and modes["shared/motd"] == "read"
    # binary content sits in binaryData, CRLF text survives the YAML round trip
    binary_keys = [k for cm in cms for k in cm.get("binaryData", {})]
    assert len(binary_keys) == 2
    assert "hostname r2" in topo["spec"]["definition"]["containerlab"]
    assert any("/lib/modules (node h1)" in w for w in result["warnings"])


def test_output_is_deterministic_and_unchanged_on_second_render(tmp_path):
    lab = make_lab(tmp_path / "lab", LAYERED, LAYERED_FILES)
    dest = str(tmp_path / "manifests.yml")
    first = c9s.render(lab, dest, "lab-ns")
    before = read(str(tmp_path), "manifests.yml")
    os.utime(dest, (1, 1))
    second = c9s.render(lab, dest, "lab-ns")
    assert first["changed"] and not second["changed"]
    assert os.stat(dest).st_mtime == 1
    assert second["manifest_sha256"] == first["manifest_sha256"] == sha256_bytes(before)
    copy_lab = make_lab(tmp_path / "copy", LAYERED, LAYERED_FILES)
    other = str(tmp_path / "other.yml")
    c9s.render(copy_lab, other, "lab-ns")
    assert read(str(tmp_path), "other.yml") == before
    assert not [n for n in os.listdir(str(tmp_path)) if n.startswith(".")]


def test_per_node_tables_only_on_request_and_counts_match_the_manifests(tmp_path):
    lab = make_lab(tmp_path / "lab", LAYERED, LAYERED_FILES)
    summary, cms, topo, _dest = render(lab, tmp_path, return_details=False)
    assert "mounts" not in summary and "files_from_url" not in summary
    details, _cms, _topo, _dest = render(lab, tmp_path, return_details=True)
    mounts = topo["spec"]["deployment"]["filesFromConfigMap"]
    assert details["mounts"] == mounts and details["files_from_url"] == {}
    assert summary["counts"] == details["counts"] == {
        "nodes": len(yaml.safe_load(topo["spec"]["definition"]["containerlab"])["topology"]["nodes"]),
        "configmaps": len(cms),
        "configmap_bytes": sum(configmaps.serialized_size(cm) for cm in cms),
        "mounts": sum(len(entries) for entries in mounts.values()), "files_from_url": 0}
    summary.pop("dest"), details.pop("dest")
    assert dict((k, v) for k, v in details.items() if k not in ("mounts", "files_from_url")) == summary


def test_output_order_and_labels(tmp_path):
    lab = make_lab(tmp_path / "lab", LAYERED, LAYERED_FILES)
    _result, cms, topo, _dest = render(lab, tmp_path, max_configmap_bytes=2000, labels={"team": "netops"})
    names_in_order = [cm["metadata"]["name"] for cm in cms]
    assert len(cms) > 1 and names_in_order == sorted(names_in_order)
    for obj, component in [(cm, "files") for cm in cms] + [(topo, "topology")]:
        assert obj["metadata"]["labels"] == {
            "app.kubernetes.io/managed-by": "skyforge.labs", "skyforge.labs/lab": "layered",
            "skyforge.labs/component": component, "team": "netops"}
        assert obj["metadata"]["namespace"] == "lab-ns"
    assert topo["metadata"]["name"] not in names_in_order


def test_c9s_apply_accepts_the_output(tmp_path):
    """The contract with c9s_apply: its manifest reader takes what we write as is."""
    from ansible_collections.skyforge.labs.plugins.module_utils.c9s import manifests as c9s_manifests
    lab = make_lab(tmp_path / "lab", LAYERED, LAYERED_FILES)
    _result, cms, topo, dest = render(lab, tmp_path, max_configmap_bytes=2000)
    loaded = c9s_manifests.load_manifests(dest)
    assert loaded.topology == topo and loaded.namespace == "lab-ns"
    # the lab's files, then its inventory ConfigMap (a bare clab lab has no credentials Secret)
    assert loaded.configmaps[:-1] == cms and loaded.secrets == []
    assert loaded.configmaps[-1]["metadata"]["name"] == "layered-inventory"


def test_content_change_gives_new_configmap_names(tmp_path):
    lab = make_lab(tmp_path / "lab", LAYERED, LAYERED_FILES)
    _r, before, _t, _d = render(lab, tmp_path)
    with open(os.path.join(lab, "shared/motd"), "w") as handle:
        handle.write("changed\n")
    _r, after, _t, _d = render(lab, tmp_path)
    assert set(c["metadata"]["name"] for c in before).isdisjoint(c["metadata"]["name"] for c in after)


def test_many_nodes_split_across_configmaps_under_the_budget(tmp_path, crd_validators):
    nodes = dict(("n%03d" % i, {"kind": "linux", "binds": [
        "node_files/n%03d/cfg:/etc/cfg" % i, "node_files/shared.txt:/etc/shared"]}) for i in range(120))
    files = dict(("node_files/n%03d/cfg" % i, ("config %d\n" % i) * 900) for i in range(120))
    files["node_files/shared.txt"] = "same everywhere\n" * 100
    lab = make_lab(tmp_path / "lab", yaml.safe_dump({"name": "big", "topology": {"nodes": nodes}}), files)
    budget = 60000
    result, cms, topo, _dest = render(lab, tmp_path, max_configmap_bytes=budget)
    assert_valid_topology(crd_validators, topo)
    assert len(cms) > 1
    for cm in cms:
        assert configmaps.serialized_size(cm) <= budget
    assert [c["bytes"] for c in result["configmaps"]] == [configmaps.serialized_size(c) for c in cms]
    total_keys = sum(len(cm.get("data", {})) for cm in cms)
    assert total_keys == 121
    mounts = topo["spec"]["deployment"]["filesFromConfigMap"]
    for node, entries in mounts.items():
        for mount in entries:
            assert mounted_content(cms, mount) == read(lab, mount["filePath"])
    # as few as the budget allows: no two ConfigMaps could have been merged into one
    envelope = configmaps.envelope_bytes("lab-ns", cms[0]["metadata"]["labels"])
    used = [sum(len(json.dumps(k)) + len(json.dumps(v)) + 2 for k, v in cm["data"].items()) for cm in cms]
    assert min(a + b for i, a in enumerate(used) for b in used[i + 1:]) > budget - envelope


def test_large_file_becomes_files_from_url_or_a_clear_error(tmp_path, crd_validators):
    lab = make_lab(tmp_path / "lab", """\
        name: big
        topology:
          nodes:
            r1: { kind: linux, binds: ["images/disk.img:/disk.img", "small.txt:/small.txt"] }
        """, {"images/disk.img": os.urandom(200000), "small.txt": "small\n"})
    with pytest.raises(LabError) as err:
        render(lab, tmp_path, max_configmap_bytes=100000)
    message = err.value.message
    assert "images/disk.img" in message and "200000" in message and "large_file_url" in message
    assert not [n for n in os.listdir(str(tmp_path)) if n.endswith(".yml") or n.startswith(".")]
    result, cms, topo, _dest = render(lab, tmp_path, max_configmap_bytes=100000,
                                      large_file_url="https://files.example.com/labs/big/")
    assert_valid_topology(crd_validators, topo)
    assert topo["spec"]["deployment"]["filesFromURL"] == {
        "r1": [{"filePath": "images/disk.img", "url": "https://files.example.com/labs/big/images/disk.img"}]}
    assert [m["filePath"] for m in topo["spec"]["deployment"]["filesFromConfigMap"]["r1"]] == ["small.txt"]
    assert result["large_files"][0]["size"] == 200000
    # the user asked for large_file_url: the list is returned, not repeated as a warning
    assert not [w for w in result["warnings"] if "images/disk.img" in w]


def test_invalid_and_colliding_node_names(tmp_path, crd_validators):
    lab = make_lab(tmp_path / "lab", """\
        name: My_Lab
        topology:
          kinds:
            linux:
              binds: ["cfg/__clabNodeName__.conf:/etc/node.conf"]
          nodes:
            Core_1: { kind: linux }
            edge: { kind: linux, network-mode: "container:Core_1" }
          links:
            - endpoints: ["Core_1:eth1", "edge:eth1"]
            - type: veth
              endpoints: [{node: Core_1, interface: eth2}, {node: edge, interface: eth2}]
        """, {"cfg/Core_1.conf": "core\n", "cfg/edge.conf": "edge\n"})
    result, cms, topo, _dest = render(lab, tmp_path)
    assert_valid_topology(crd_validators, topo)
    core = names.to_label("Core_1")
    assert result["renamed_nodes"] == {"Core_1": core}
    assert topo["metadata"]["name"] == names.to_label("My_Lab")
    definition = yaml.safe_load(topo["spec"]["definition"]["containerlab"])
    assert set(definition["topology"]["nodes"]) == {core, "edge"}
    assert definition["topology"]["nodes"]["edge"]["network-mode"] == "container:" + core
    assert definition["topology"]["links"][0]["endpoints"] == [core + ":eth1", "edge:eth1"]
    assert definition["topology"]["links"][1]["endpoints"][0]["node"] == core
    # containerlab expands __clabNodeName__ with the NEW name in the pod: mount it there
    mount = topo["spec"]["deployment"]["filesFromConfigMap"][core][0]
    assert mount["filePath"] == "cfg/%s.conf" % core
    assert mounted_content(cms, mount) == b"core\n"

    clash = make_lab(tmp_path / "clash", """\
        name: clash
        topology:
          nodes:
            R1: {}
            r1-%s: {}
        """ % names.short_hash("R1"), {})
    with pytest.raises(LabError) as err:
        render(clash, tmp_path)
    assert "'R1'" in err.value.message and "r1-" in err.value.message


def test_bad_input_names_the_culprit(tmp_path):
    lab = make_lab(tmp_path / "lab", """\
        name: bad
        topology:
          nodes:
            r1: { binds: ["missing/file:/etc/file"] }
        """, {})
    with pytest.raises(LabError, match=r"node r1: bind source 'missing/file' \(nodes level\) does not exist"):
        render(lab, tmp_path)
    with pytest.raises(LabError, match="namespace"):
        render(lab, tmp_path, namespace="My_NS")
    with pytest.raises(LabError, match="skyforge.labs/lab"):
        render(make_lab(tmp_path / "ok", "name: ok\ntopology: {nodes: {r1: {}}}\n", {}), tmp_path,
               labels={"skyforge.labs/lab": "other"})
    with pytest.raises(LabError, match="holds no clab.yml"):
        c9s.render(str(tmp_path), str(tmp_path / "x.yml"), "ns")


def test_symlink_out_of_a_lab_directory_is_refused(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("do not ship\n")
    lab = make_lab(tmp_path / "lab", "name: l\ntopology: {nodes: {r1: {binds: ['link:/x']}}}\n", {})
    os.symlink(str(secret), os.path.join(lab, "link"))
    with pytest.raises(LabError, match="outside the lab"):
        render(lab, tmp_path)


def test_options_reach_the_topology_and_stay_schema_valid(tmp_path, crd_validators):
    lab = make_lab(tmp_path / "lab", LAYERED, LAYERED_FILES)
    probes = {"enabled": True, "excludedNodes": ["h1"],
              "probeConfiguration": {"startupSeconds": 600, "tcpProbeConfiguration": {"port": 22}}}
    for api_version in sorted(CRD_FILES):
        _r, _c, topo, _d = render(lab, tmp_path, api_version=api_version, naming="non-prefixed",
                                  expose={"exposeType": "ClusterIP"}, status_probes=probes,
                                  name="custom")
        assert_valid_topology(crd_validators, topo)
        assert topo["spec"]["naming"] == "non-prefixed"
        assert topo["spec"]["statusProbes"] == probes
        assert topo["spec"]["expose"] == {"exposeType": "ClusterIP"}
        assert topo["metadata"]["name"] == "custom"
        broken = copy.deepcopy(topo)
        broken["spec"]["statusProbe"] = {"enabled": True}
        with pytest.raises(AssertionError):
            assert_valid_topology(crd_validators, broken)


def test_check_mode_writes_nothing(tmp_path):
    lab = make_lab(tmp_path / "lab", LAYERED, LAYERED_FILES)
    dest = str(tmp_path / "manifests.yml")
    result = c9s.render(lab, dest, "lab-ns", check_mode=True)
    assert result["changed"] and not os.path.exists(dest)
    assert os.listdir(str(tmp_path)) == ["lab"]


# ------------------------------------------------------------------ bundles

def _tar(path, members):
    with tarfile.open(str(path), "w:gz") as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return str(path)


def _member(name, data=b"", kind=tarfile.REGTYPE, linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.linkname = linkname
    return info, (data if kind == tarfile.REGTYPE else None)


def test_bundle_renders_like_the_directory(tmp_path):
    lab = make_lab(tmp_path / "lab", LAYERED, LAYERED_FILES)
    bundle_path = str(tmp_path / "lab.tar.gz")
    atomic_write(bundle_path, bundle.bundle_bytes(bundle.collect_tree(lab)))
    from_dir = c9s.render(lab, str(tmp_path / "a.yml"), "lab-ns")
    from_bundle = c9s.render(bundle_path, str(tmp_path / "b.yml"), "lab-ns")
    assert from_dir["manifest_sha256"] == from_bundle["manifest_sha256"]


CLAB = b"name: evil\ntopology:\n  nodes:\n    r1: {binds: ['f:/f']}\n"


@pytest.mark.parametrize("member", [
    _member("../escape", b"x"),
    _member("/etc/absolute", b"x"),
    _member("f", kind=tarfile.SYMTYPE, linkname="/etc/passwd"),
    _member("f", kind=tarfile.LNKTYPE, linkname="clab.yml"),
    _member("dev", kind=tarfile.CHRTYPE),
    _member("fifo", kind=tarfile.FIFOTYPE),
], ids=["tar-slip", "absolute", "symlink", "hardlink", "device", "fifo"])
def test_hostile_bundles_are_refused_with_nothing_written(tmp_path, member):
    hostile = _tar(tmp_path / "hostile.tar.gz", [_member("clab.yml", CLAB), member, _member("z", b"z")])
    dest = tmp_path / "out" / "manifests.yml"
    scratch_before = set(os.listdir(tempfile.gettempdir()))
    with pytest.raises(LabError) as err:
        c9s.render(hostile, str(dest), "lab-ns")
    assert member[0].name in err.value.message
    assert not (tmp_path / "out").exists()
    assert not (tmp_path.parent / "escape").exists()
    leftover = [n for n in set(os.listdir(tempfile.gettempdir())) - scratch_before
                if n.startswith("skyforge-render-")]
    assert not leftover


def test_corrupt_bundle_is_a_clear_error(tmp_path):
    path = tmp_path / "lab.tar.gz"
    path.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(LabError, match="not a readable"):
        c9s.render(str(path), str(tmp_path / "m.yml"), "lab-ns")


def test_clabernetes_v06_pitfalls_are_warned(tmp_path):
    lab = make_lab(tmp_path / "lab", """\
        name: pitfalls
        topology:
          groups:
            spine: { kind: linux, image: alpine }
          nodes:
            s1: { group: spine }
            %s: { kind: linux }
          links:
            - type: veth
              endpoints: [{node: s1, interface: eth1}, {node: l1, interface: eth1}]
        """ % ("l" * 60), {})
    v06 = render(lab, tmp_path, api_version="clabernetes.containerlab.dev/v1alpha1")[0]["warnings"]
    text = "\n".join(v06)
    assert "nodes s1 take settings from topology.groups" in text
    assert "links 0 use the extended link format" in text
    assert "'<topology>-<node>-vx'" in text and "l" * 60 in text
    c9s_run = render(lab, tmp_path, naming="non-prefixed")[0]["warnings"]
    assert not any("groups" in w or "extended" in w or "-vx" in w for w in c9s_run)


def test_files_over_the_launcher_own_files_are_refused(tmp_path):
    lab = make_lab(tmp_path / "lab", "name: l\ntopology: {nodes: {r1: {binds: ['topo.clab.yaml:/x']}}}\n",
                   {"topo.clab.yaml": "x\n"})
    with pytest.raises(LabError, match="launcher uses itself"):
        render(lab, tmp_path)


def test_piecewise_topology_yaml_equals_a_whole_dump(tmp_path):
    nodes = dict(("n%03d" % i, {"binds": ["f/%d:/f" % i, "f/shared:/s"]}) for i in range(150))
    files = dict(("f/%d" % i, "x%d\n" % i) for i in range(150))
    files["f/shared"] = "s\n"
    lab = make_lab(tmp_path / "lab", yaml.safe_dump({"name": "chunks", "topology": {"nodes": nodes}}), files)
    with source.open_lab(lab) as opened:
        planned = plan.plan_render(opened, "lab-ns")
    assert "".join(c9s.topology_yaml_chunks(planned.topology)) == c9s.dump_yaml(planned.topology)


NASTY = {
    "empty": b"",
    "nul": b"a\x00b\n",
    "crlf": b"one\r\ntwo\r\n",
    "separators": "x\u2028y\u2029z\x85\n".encode("utf-8"),
    "bom": "\ufeffbom first\n".encode("utf-8"),
    "indent": b"   leading spaces\n  then less\n",
    "trailing": b"trailing spaces   \n\n\n",
    "no-newline": b"no newline at end",
    "tabs": b"\tTAB\t\n",
    "yaml-ish": b"--- \n...\n? key\n: value\n# comment\n",
    "latin1": "caf\xe9".encode("latin-1"),
}


def test_any_content_survives_the_yaml_round_trip_byte_for_byte(tmp_path):
    binds = ["files/%s:/f/%s" % (name, name) for name in sorted(NASTY)]
    lab = make_lab(tmp_path / "lab", yaml.safe_dump({"name": "nasty", "topology": {"nodes": {"r1": {"binds": binds}}}}),
                   dict(("files/" + name, data) for name, data in NASTY.items()))
    _result, cms, topo, _dest = render(lab, tmp_path)
    mounts = topo["spec"]["deployment"]["filesFromConfigMap"]["r1"]
    assert len(mounts) == len(NASTY)
    for mount in mounts:
        assert mounted_content(cms, mount) == NASTY[mount["filePath"].split("/", 1)[1]]


def test_src_that_is_not_a_lab_says_what_to_give_instead(tmp_path):
    clab_file = tmp_path / "clab.yml"
    clab_file.write_text("name: x\ntopology:\n  nodes: {}\n")
    with pytest.raises(LabError, match="is a YAML file: give the directory holding it"):
        c9s.render(str(clab_file), str(tmp_path / "out.yml"), "ns")
    garbage = tmp_path / "lab.tar.gz"
    garbage.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(LabError) as err:
        source.open_lab(str(garbage))
    assert "is not a readable .tar.gz" in err.value.message and "\n" not in err.value.message


def test_a_lab_too_big_for_one_topology_is_refused_before_its_files_are_read(tmp_path, monkeypatch):
    """The definition plus the shortest possible mounts table already exceed etcd's limit:
    the error comes after a stat of each file, not after reading and packing them."""
    many = tmp_path / "lab" / "many"
    many.mkdir(parents=True)
    for index in range(12000):
        (many / ("%05d-%s" % (index, "x" * 100))).write_bytes(b"")
    lab = make_lab(tmp_path / "lab", "name: big\ntopology: {nodes: {r1: {binds: ['many:/etc/many']}}}\n", {})
    reads = []
    real_read = source.LabDir.read
    monkeypatch.setattr(source.LabDir, "read", lambda self, relpath: reads.append(relpath) or real_read(self, relpath))
    with pytest.raises(LabError, match=r"Topology object would be at least \d+ bytes, over the 1507328 byte limit"):
        render(lab, tmp_path)
    assert reads == ["clab.yml"]
    comment = "# " + "c" * plan.TOPOLOGY_MAX_BYTES + "\n"
    lab = make_lab(tmp_path / "lab2", comment + "name: big\ntopology: {nodes: {r1: {}}}\n", {})
    with pytest.raises(LabError, match="at least"):
        render(lab, tmp_path)


@pytest.mark.parametrize("case", ["layered", "renamed", "url"])
def test_the_early_size_check_never_refuses_a_topology_that_fits(tmp_path, monkeypatch, case):
    """Its lower bound stays at or under the real size: a limit set to exactly the real
    size still renders."""
    if case == "url":
        lab = make_lab(tmp_path / "lab", "name: u\ntopology: {nodes: {r1: {binds: ['i/d.img:/d', 'a:/a']}}}\n",
                       {"i/d.img": os.urandom(5000), "a": "a\n"})
        options = {"max_configmap_bytes": 4000, "large_file_url": "http://x"}
    elif case == "renamed":
        nodes = dict(("N_%d" % i, {"binds": ["f/%d:/f" % i]}) for i in range(30))
        lab = make_lab(tmp_path / "lab", "# a comment that re-dumping drops\n" + yaml.safe_dump(
            {"name": "r", "topology": {"nodes": nodes}}), dict(("f/%d" % i, "%d\n" % i) for i in range(30)))
        options = {}
    else:
        lab = make_lab(tmp_path / "lab", LAYERED, LAYERED_FILES)
        options = {"max_configmap_bytes": 2000}
    with source.open_lab(lab) as opened:
        size = configmaps.serialized_size(plan.plan_render(opened, "lab-ns", **options).topology)
    monkeypatch.setattr(plan, "TOPOLOGY_MAX_BYTES", size)
    render(lab, tmp_path, **options)
    monkeypatch.setattr(plan, "TOPOLOGY_MAX_BYTES", size - 1)
    with pytest.raises(LabError, match="Topology object would be"):
        render(lab, tmp_path, **options)
