"""JMESPath rules: which delivery starts which run with which vars; a delivery that runs
end to end; secrets from the environment; rule configuration errors."""

import os
import re
import subprocess
import sys

import pytest
import yaml

from tests.webhook import hook_helpers as H
from tests.webhook.conftest import ROOT, with_store, write_config
from tests.webhook.hook_helpers import authed_service  # noqa: F401 (fixture)
from webhook import create_app
from webhook.config import ConfigError
from tests.webhook.store_fixtures import BOTH_BACKENDS



@pytest.fixture(scope="module")
def svc(tmp_path_factory, module_store_databases):
    service = H.start_service(tmp_path_factory.mktemp("rules"), workers=1,
                              **with_store(module_store_databases, {}))
    yield service
    service.stop()


def deliver(svc, payload, event="push"):
    data, headers = H.github(payload, event=event)
    status, body, _ = H.post(svc, "/hooks/github", data, headers)
    return status, body


@BOTH_BACKENDS
def test_push_to_main_runs_the_playbook_end_to_end(svc):
    status, body = deliver(svc, {"ref": "refs/heads/main", "pusher": {"name": "ada"},
                                 "repository": {"name": "lab-e2e"}})
    assert status == 202 and body["rule"] == "push-main"
    run = svc.wait(body["run"]["id"])
    assert run["status"] == "successful", run
    assert run["lock_key"] == "lab-e2e"      # the catalog's lock applies to hook runs too
    status, text, _ = H.call(svc, "GET", f"/api/v1/runs/{run['id']}/stdout", "viewer")
    assert status == 200 and "hello ada" in text


@BOTH_BACKENDS
def test_when_looks_at_headers_and_payload(svc):
    before = H.run_total(svc)
    status, body = deliver(svc, {"ref": "refs/heads/feature", "pusher": {"name": "x"}})
    assert status == 202 and body == {"matched": False, "source": "github",
                                      "delivery": body["delivery"],
                                      "message": "no rule for 'github' matches this delivery"}
    status, body = deliver(svc, {"ref": "refs/heads/main"}, event="issues")
    assert status == 202 and not body["matched"]
    assert H.run_total(svc) == before
    # the second rule matches another event type
    status, body = deliver(svc, {"release": {"tag_name": "v1.2"}}, event="release")
    assert status == 202 and body["rule"] == "release" and body["run"]["vars"] == {"who": "v1.2"}


@BOTH_BACKENDS
def test_null_results_are_left_out_so_the_schema_decides(svc):
    status, body = deliver(svc, {"ref": "refs/heads/main", "pusher": {}})
    assert status == 202 and body["run"]["vars"] == {}


@BOTH_BACKENDS
def test_vars_built_from_a_payload_still_pass_schema_and_policy(svc):
    before = H.run_total(svc)
    status, body = deliver(svc, {"ref": "refs/heads/main", "pusher": {"name": 42}})
    assert status == 422 and body["path"] == "$.vars.who", body
    status, body = deliver(svc, {"ref": "refs/heads/main", "pusher": {"name": "x"},
                                 "repository": {"name": ["not", "a", "string"]}})
    assert status == 422 and body["path"] == "$.vars.lab", body
    assert H.run_total(svc) == before


@BOTH_BACKENDS
def test_a_rule_that_fails_on_a_delivery_is_a_422(authed_service):
    rules = [{"source": "github", "when": "starts_with(payload.ref, 'refs/')", "playbook": "quick"}]
    svc = authed_service(workers=0, rules=rules)
    status, body = deliver(svc, {"ref": 7})
    assert status == 422 and "a rule for 'github' failed" in body["error"]
    status, body = deliver(svc, {"ref": "refs/x"})
    assert status == 202 and body["matched"]


def test_env_secret_must_be_set(tmp_path, monkeypatch):
    path = write_config(str(tmp_path), auth=H.auth_section(), hooks=H.HOOKS, rules=H.RULES)
    monkeypatch.delenv("SF_TEST_GITHUB_SECRET", raising=False)
    monkeypatch.setenv("SF_TEST_SLACK_SECRET", "x")
    with pytest.raises(ConfigError, match="env:SF_TEST_GITHUB_SECRET, but SF_TEST_GITHUB_SECRET"
                                          " is not set"):
        create_app(path)


@pytest.mark.parametrize("hooks, rules, needle", [
    ({}, [{"source": "github", "playbook": "quick"}],
     "rules[0].source: 'github' is not configured"),
    ({"github": {"secret": "s"}}, [{"source": "github", "playbook": "nope"}],
     "rules[0].playbook: 'nope' is not in the catalog"),
    ({"github": {"secret": "s"}}, [{"source": "github", "playbook": "quick", "when": "a.[["}],
     "rules[0].when: invalid JMESPath"),
    ({"github": {"secret": "s"}}, [{"source": "github", "playbook": "quick",
                                    "vars": {"x": "]"}}], "rules[0].vars.x: invalid JMESPath"),
    ({"github": {"secret": "s"}}, [{"source": "bitbucket", "playbook": "quick"}],
     "rules[0].source: one of github, gitlab, slack or generic/<name>"),
    ({"github": {"secret": "s"}}, [{"source": "github", "playbook": "quick", "then": 1}],
     "unknown key 'then'"),
    ({"github": {"secret": ""}}, [], "hooks.github.secret: required"),
    ({"github": {"secret": "s", "token": "t"}}, [], "hooks.github: unknown key 'token'"),
    ({"generic": {"x": {"header": "X-S", "algorithm": "md5", "secret": "s"}}}, [],
     "hooks.generic.x.algorithm: one of sha1, sha256, sha512"),
    ({"generic": {"x": {"algorithm": "sha256", "secret": "s"}}}, [],
     "hooks.generic.x.header: required"),
    ({"generic": {"../x": {"header": "X-S", "secret": "s"}}}, [], "the name must be letters"),
    ({"slack": {"signing_secret": "s", "max_age": 3600}}, [], "max_age: seconds"),
])
def test_config_errors(tmp_path, hooks, rules, needle):
    path = write_config(str(tmp_path), hooks=hooks, rules=rules)
    with pytest.raises(ConfigError) as err:
        create_app(path)
    assert needle in str(err.value), str(err.value)


def test_the_worker_accepts_a_config_with_hooks(tmp_path):
    """Workers parse the same file: hook sections (and unset env secrets) must not stop them."""
    path = write_config(str(tmp_path), hooks=H.HOOKS, rules=H.RULES)
    out = subprocess.run([sys.executable, "-m", "webhook", "-c", path, "check-config"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_the_documented_config_is_valid(tmp_path, monkeypatch):
    """The YAML examples in webhook/ACCESS_AND_TRIGGERS.md load and start an app."""
    with open(os.path.join(ROOT, "webhook", "ACCESS_AND_TRIGGERS.md")) as handle:
        blocks = re.findall(r"```yaml\n(.*?)```", handle.read(), re.S)
    doc = {}
    for block in blocks:
        doc.update(yaml.safe_load(block))
    assert set(doc) == {"auth", "hooks", "rules"}
    doc["auth"]["tokens"][0]["sha256"] = "0" * 64     # the doc elides the digest
    for var in ("GITHUB_WEBHOOK_SECRET", "GITLAB_WEBHOOK_TOKEN", "SLACK_SIGNING_SECRET",
                "CI_HOOK_SECRET", "DEPLOY_HOOK_SECRET"):
        monkeypatch.setenv(var, "s3cret")
    path = write_config(str(tmp_path), playbooks={"lab_render": {
        "playbook": "x.yml", "schema": {"type": "object"}}}, **doc)
    app = create_app(path)
    assert {r.rule for r in app.url_map.iter_rules()} >= {"/hooks/github", "/hooks/slack"}


@BOTH_BACKENDS
def test_a_redelivery_after_the_rules_changed_is_a_clear_409(authed_service):
    svc = authed_service(workers=0)
    data, headers = H.github({"ref": "refs/heads/main", "pusher": {"name": "a"}},
                             delivery="same-id")
    assert H.post(svc, "/hooks/github", data, headers)[0] == 202
    data, headers = H.github({"ref": "refs/heads/main", "pusher": {"name": "b"}},
                             delivery="same-id")
    status, body, _ = H.post(svc, "/hooks/github", data, headers)
    assert status == 409 and "delivery 'same-id' already started a run" in body["error"]
    assert H.run_total(svc) == 1
