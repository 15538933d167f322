"""The shipped example catalog runs the collection's own playbooks through the real service."""

import os

import yaml

from conftest import ROOT  # noqa: F401  (tests/webhook/conftest.py; pytest puts it on sys.path)


def _example_catalog():
    with open(os.path.join(ROOT, "webhook", "config.example.yml")) as handle:
        example = yaml.safe_load(handle)
    base = os.path.join(ROOT, "webhook")
    playbooks = {}
    for name, entry in example["playbooks"].items():
        entry = dict(entry)
        for key in ("playbook", "inventory", "cwd"):
            if key in entry:
                entry[key] = os.path.normpath(os.path.join(base, entry[key]))
        playbooks[name] = entry
    return playbooks, example["executor"]


def test_lab_render_from_the_example_catalog_renders_the_example_lab(make_service, tmp_path):
    playbooks, executor = _example_catalog()
    executor = dict(executor, env=dict(executor["env"], ANSIBLE_COLLECTIONS_PATH=os.path.join(
        ROOT, ".skyforge", "collections")))
    # the worker was started from elsewhere: relative paths in vars must still mean the
    # catalog entry's cwd (the collection root), not the worker's directory
    svc = make_service(playbooks=playbooks, executor=executor, worker_env={"PWD": str(tmp_path)})
    out_dir = os.path.join(ROOT, "out", "frr-small")
    run = svc.submit("lab_render", vars={"topology": "examples/frr-small/topology.yml",
                                          "namespace": "lab-webhook"})
    final = svc.wait(run["id"], timeout=300)
    stdout = svc.request("GET", "/api/v1/runs/%s/stdout" % run["id"])[1]
    assert final["status"] == "successful", stdout[-3000:]
    assert "Lab frr-small: " in stdout
    with open(os.path.join(out_dir, "manifests.yml")) as handle:
        docs = list(yaml.safe_load_all(handle))
    assert docs[-1]["kind"] == "Topology" and docs[-1]["metadata"]["namespace"] == "lab-webhook"
