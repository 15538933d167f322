"""Configuration loading: strict keys, relative paths, catalog validation, the example."""

import os
import re
import subprocess
import sys

import pytest
import yaml

from webhook import config
from tests.webhook.conftest import ROOT


def write(tmp_path, text, name="config.yml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    sub = tmp_path / "etc"
    sub.mkdir()
    path = write(sub, "data_dir: ../state\nplaybooks:\n  p:\n    playbook: ../pb/site.yml\n"
                      "    inventory: inv/hosts.yml\n    lock: vars.lab_name\n")
    cfg = config.load(path)
    assert cfg.data_dir == str(tmp_path / "state")
    assert cfg.playbooks["p"].playbook == str(tmp_path / "pb" / "site.yml")
    assert cfg.playbooks["p"].inventory == str(sub / "inv" / "hosts.yml")
    assert cfg.db_path.startswith(str(tmp_path / "state"))


@pytest.mark.parametrize("text, needle", [
    ("colour: blue\n", "unknown key 'colour'"),
    ("queue:\n  depth: 3\n", "queue: unknown key 'depth'"),
    ("playbooks:\n  p:\n    playbook: x.yml\n    lokc: vars.a\n", "playbooks.p: unknown key 'lokc'"),
    ("playbooks:\n  p:\n    inventory: x\n", "'playbook' is required"),
    ("playbooks:\n  p:\n    playbook: x.yml\n    lock: 'vars.[['\n", "invalid JMESPath"),
    ("playbooks:\n  p:\n    playbook: x.yml\n    schema: {type: 12}\n", "not a valid JSON schema"),
    ("playbooks:\n  p:\n    playbook: x.yml\n    on_cancel: nope\n", "'nope' is not a catalog entry"),
    ("worker:\n  slots: many\n", "worker.slots: expected integer"),
    ("queue:\n  ttl: true\n", "queue.ttl: expected"),
    ("- a\n- b\n", "top level must be a mapping"),
    ("executor:\n  env: {DEBUG: 1}\n", "executor.env.DEBUG: environment values must be strings"),
    ("playbooks:\n  p:\n    playbook: x.yml\n    env: {A: true}\n", "p.env.A: environment values"),
    ("a: [\n", "invalid YAML"),
    ("playbooks:\n  'bad name/..':\n    playbook: x.yml\n", "must use letters"),
])
def test_errors_name_the_key_and_the_file(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(config.ConfigError) as err:
        config.load(path)
    assert needle in str(err.value)
    assert path in str(err.value)


def test_missing_config_says_which_variable(monkeypatch):
    monkeypatch.delenv("SKYFORGE_CONFIG", raising=False)
    with pytest.raises(config.ConfigError, match="SKYFORGE_CONFIG"):
        config.load()
    with pytest.raises(config.ConfigError, match="cannot read"):
        config.load("/nonexistent/config.yml")


def test_bind_from_environment(tmp_path, monkeypatch):
    cfg = config.load(write(tmp_path, "server:\n  bind: 0.0.0.0:9\n"))
    monkeypatch.delenv("SKYFORGE_BIND", raising=False)
    assert cfg.bind == "0.0.0.0:9"
    monkeypatch.setenv("SKYFORGE_BIND", "127.0.0.1:1234")
    assert cfg.bind == "127.0.0.1:1234"


def test_the_feature_sections_are_parsed_without_importing_them_first(tmp_path):
    # no import-time registration: a fresh interpreter that imports only the config knows
    # the auth, hooks and rules sections, and neither it nor the worker loads Flask
    path = write(tmp_path, "auth:\n  anonymous_role: viewer\nhooks:\n  github:\n"
                           "    secret: s3cret\nrules: []\nbogus: 1\n")
    code = ("import sys\nfrom webhook import config\nimport webhook.worker.worker\n"
            "try:\n    config.load(sys.argv[1])\nexcept config.ConfigError as exc:\n"
            "    print(exc)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug')))\n")
    out = subprocess.run([sys.executable, "-c", code, path], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True).stdout.splitlines()
    assert "unknown key 'bogus'" in out[0] and "auth, cancel," in out[0] and "hooks," in out[0]
    assert out[1] == "[]"
    cfg = config.load(write(tmp_path, "auth:\n  anonymous_role: viewer\nrules: []\n", "ok.yml"))
    assert cfg.extra["auth"].anonymous_role == "viewer" and cfg.extra["rules"] == []


def test_check_config_cli_reports_errors(tmp_path):
    path = write(tmp_path, "playbooks: {}\nretention: {keep: 1}\n")
    proc = subprocess.run([sys.executable, "-m", "webhook", "-c", path, "check-config"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "retention: unknown key 'keep'" in proc.stderr and path in proc.stderr


def test_example_config_is_valid_and_covers_the_collection_playbooks():
    path = os.path.join(ROOT, "webhook", "config.example.yml")
    cfg = config.load(path)
    assert {"lab_render", "lab_deploy", "lab_destroy", "host_check"} <= set(cfg.playbooks)
    for entry in cfg.playbooks.values():
        assert entry.playbook.startswith(os.path.join(ROOT, "playbooks") + os.sep)
        assert entry.inventory == os.path.join(ROOT, "inventories", "local", "hosts.yml")
    deploy = cfg.playbooks["lab_deploy"]
    assert deploy.lock_expr.search({"vars": {"lab_name": "l1"}}) == "l1"
    assert deploy.on_cancel == "lab_destroy"
    good = {"topology": "frr-small", "lab_name": "lab-1", "namespace": "lab-1"}
    assert deploy.files["topology"]["frr-small"] == os.path.join(ROOT, "examples", "frr-small",
                                                                 "topology.yml")
    assert list(deploy.validator.iter_errors(good)) == []
    # the on_cancel clean-up (lab_destroy) gets the deploy's vars: they must name the namespace
    assert set(cfg.playbooks["lab_destroy"].schema["required"]) <= set(good)
    for bad in ({"lab_name": "lab-1"}, {"topology": good["topology"], "lab_name": "lab-1"},
                dict(good, topology="/etc/passwd"),
                dict(good, topology="examples/frr-small/topology.yml"),
                dict(good, topology="examples/../../etc/x.yml"), dict(good, output_dir="/tmp"),
                dict(good, lab_name="Bad_Name")):
        assert list(deploy.validator.iter_errors(bad)), bad
    with open(path) as handle:
        assert yaml.safe_load(handle)["playbooks"]


def test_the_readme_documents_every_key_with_its_default():
    """webhook/README.md's configuration table stays true: every key, its default."""
    with open(os.path.join(ROOT, "webhook", "README.md")) as handle:
        rows = dict(re.findall(r"^\| `([a-z_.<>]+)` \|\s*([^|]*?)\s*\|", handle.read(), re.M))
    expected = {"data_dir", "playbooks.<name>"}
    expected |= {"%s.%s" % (section, key) for section, keys in config.SECTIONS.items() for key in keys}
    expected |= {"playbooks.<name>.%s" % key for key in config.PLAYBOOK_KEYS}
    assert sorted(expected - set(rows)) == [], "undocumented keys"
    assert sorted(set(rows) - expected) == [], "documented keys that do not exist"
    for section, keys in config.SECTIONS.items():
        for key, (_types, default) in keys.items():
            shown = rows["%s.%s" % (section, key)].strip().strip("`")
            if isinstance(default, (bool, int, float)) and default is not None:
                assert shown == (str(default).lower() if isinstance(default, bool) else "%g" % default) \
                    or float(shown) == default, (section, key, shown, default)
            elif isinstance(default, str):
                assert shown == default, (section, key, shown, default)
