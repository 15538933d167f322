# -*- coding: utf-8 -*-
"""c9s_render output, applied by c9s_apply to the real apiserver with the real CRDs.

What the render promised (ConfigMap contents, byte for byte, and the Topology's mounts) is
what the cluster holds; a changed file gives new ConfigMaps and the old ones are pruned.
"""

import base64
import os

import pytest
import yaml
from kubernetes import client

from ansible_collections.skyforge.labs.plugins.module_utils.c9s import output as c9s
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.service import run
from tests.controlplane.fixtures import GROUPS, apply_params

pytest_plugins = ["tests.controlplane.fixtures"]
pytestmark = pytest.mark.controlplane


def make_lab(root, initial=b"hostname r1\n"):
    files = {
        "node_files/r1/initial": initial,
        "node_files/r2/initial": b"hostname r2\n",
        "node_files/r1/setup.sh": b"#!/bin/sh\nip link set eth1 up\n",
        "node_files/r2/blob.bin": bytes(range(256)),
    }
    for rel, content in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(content)
    os.chmod(os.path.join(root, "node_files/r1/setup.sh"), 0o755)
    clab = {"name": "rendered", "topology": {
        "nodes": {
            "r1": {"kind": "linux", "image": "python:3.13-alpine",
                   "binds": ["node_files/r1/initial:/etc/initial", "node_files/r1/setup.sh:/setup.sh"]},
            "r2": {"kind": "linux", "image": "python:3.13-alpine",
                   "binds": ["node_files/r2/initial:/etc/initial", "node_files/r2/blob.bin:/blob.bin"]},
        },
        "links": [{"endpoints": ["r1:eth1", "r2:eth1"]}]}}
    with open(os.path.join(root, "clab.yml"), "w") as handle:
        yaml.safe_dump(clab, handle)
    return files


def rendered(path):
    with open(path) as handle:
        return [d for d in yaml.safe_load_all(handle) if d]


@pytest.mark.parametrize("api_version", sorted(GROUPS))
def test_rendered_lab_lands_as_rendered_and_changes_prune(control_plane, admin_api, namespace, tmp_path,
                                                          api_version):
    lab = tmp_path / "lab"
    files = make_lab(str(lab))
    dest = str(tmp_path / "manifests.yml")
    c9s.render(str(lab), dest, namespace, api_version=api_version)
    docs = rendered(dest)
    params = apply_params(control_plane.admin_kubeconfig, src=dest)

    result = run(params)
    assert result["api_version"] == api_version
    core = client.CoreV1Api(admin_api)
    for doc in docs[:-1]:
        live = core.read_namespaced_config_map(doc["metadata"]["name"], namespace)
        assert (live.data or {}) == (doc.get("data") or {})
        assert (live.binary_data or {}) == (doc.get("binaryData") or {})
    binary = [v for d in docs[:-1] for v in (d.get("binaryData") or {}).values()]
    assert base64.b64decode(binary[0]) == files["node_files/r2/blob.bin"]
    group, version = GROUPS[api_version]
    topology = client.CustomObjectsApi(admin_api).get_namespaced_custom_object(
        group, version, namespace, "topologies", docs[-1]["metadata"]["name"])
    assert topology["spec"]["deployment"]["filesFromConfigMap"] == docs[-1]["spec"]["deployment"]["filesFromConfigMap"]
    assert topology["spec"]["definition"] == docs[-1]["spec"]["definition"]
    assert not run(params)["changed"]

    make_lab(str(lab), initial=b"hostname r1-changed\n")
    c9s.render(str(lab), dest, namespace, api_version=api_version)
    new_names = {d["metadata"]["name"] for d in rendered(dest)[:-1]}
    old_names = {d["metadata"]["name"] for d in docs[:-1]}
    assert new_names != old_names
    changed = run(params)
    deleted = {o["name"] for o in changed["objects"] if o["action"] == "deleted"}
    assert deleted == old_names - new_names
    live_names = {cm.metadata.name for cm in core.list_namespaced_config_map(
        namespace, label_selector="skyforge.labs/lab=rendered").items}
    assert live_names == new_names
