"""Whatever a request or hook supplies reaches Ansible marked unsafe and is never templated:
every template trigger ansible-core 2.19 knows, through the API and through each hook
source, leaves the sentinel file uncreated and arrives in the output as the literal text."""

import json
import os
import uuid

import pytest

from tests.webhook import hook_helpers as H


def triggers(sentinel):
    """Every way we know to make ansible-core template a string, each touching ``sentinel``."""
    pipe = f"lookup('pipe', 'touch {sentinel}')"
    return {
        "expression": "{{ %s }}" % pipe,
        "statement": "{%% set x = %s %%}{{ x }}" % pipe,
        "comment": "{# comment #}{{ %s }}" % pipe,
        "header_variable": "#jinja2:variable_start_string:'[[', variable_end_string:']]'\n"
                           "[[ %s ]]" % pipe,
        "header_block": "#jinja2:block_start_string:'<%%', block_end_string:'%%>'\n"
                        "<%% set x = %s %%>done" % pipe,
        "header_comment": "#jinja2:comment_start_string:'<#', comment_end_string:'#>',"
                          "variable_start_string:'((', variable_end_string:'))'\n"
                          "<# c #>(( %s ))" % pipe,
        "header_line_statement": "#jinja2:line_statement_prefix:'%%%%'\n"
                                 "%%%% set x = %s\nline" % pipe,
        "header_newline_sequence": "#jinja2:newline_sequence:'\\r\\n'\n{{ %s }}" % pipe,
        "raw_escape": "{%% raw %%}{%% endraw %%}{{ %s }}" % pipe,
    }


def nested(sentinel):
    trig = triggers(sentinel)
    return {"list": list(trig.values()),
            "deep": {"a": [{"b": [trig["header_variable"]]}]},
            "{{ lookup('pipe', 'touch %s') }}" % sentinel: trig["expression"],
            "#jinja2:variable_start_string:'[[', variable_end_string:']]'\n[[ 1 ]]": "key"}


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    started = []
    try:
        yield H.start_service(tmp_path_factory.mktemp("templates"), workers=1, started=started)
    finally:
        for service in started:
            service.stop()


def _finished_stdout(svc, run_id):
    final = svc.wait(run_id, timeout=120)
    stdout = H.call(svc, "GET", f"/api/v1/runs/{run_id}/stdout", "viewer")[1]
    return final, stdout


def _fresh_sentinel(tmp_path):
    return str(tmp_path / f"sentinel-{uuid.uuid4().hex[:8]}")


def test_api_vars_with_every_trigger_are_never_templated(svc, tmp_path):
    sentinel = _fresh_sentinel(tmp_path)
    data = nested(sentinel)
    status, body, _ = H.call(svc, "POST", "/api/v1/runs", "operator",
                             {"playbook": "echo", "vars": {"data": data}})
    assert status == 202, body
    assert body["vars"]["data"] == data
    final, stdout = _finished_stdout(svc, body["id"])
    assert final["status"] == "successful", stdout[-3000:]
    assert not os.path.exists(sentinel), "a request var was templated"
    # the literal text came through, keys included
    assert "[[ lookup('pipe', 'touch" in stdout and "{% set x = lookup" in stdout
    assert "#jinja2:variable_start_string" in stdout and "<# c #>" in stdout
    assert '"{{ lookup(\'pipe\', \'touch %s\') }}": ' % sentinel in stdout


def test_the_catalog_can_opt_in_to_templates_and_only_there(svc, tmp_path):
    """The positive control: the same trigger in the opted-in field does run, so the test
    above would see it if request vars were templated."""
    sentinel = _fresh_sentinel(tmp_path)
    trig = triggers(sentinel)["expression"]
    status, body, _ = H.call(svc, "POST", "/api/v1/runs", "operator", {
        "playbook": "echo", "vars": {"expr": trig, "data": {"x": trig}}})
    assert status == 202, body
    final, stdout = _finished_stdout(svc, body["id"])
    assert final["status"] == "successful", stdout[-3000:]
    assert os.path.exists(sentinel), stdout[-3000:]
    assert "expr is " in stdout and "'x': \"{{ lookup('pipe'" in stdout \
        or '"x": "{{ lookup(\'pipe\'' in stdout


def _hook_requests(value):
    payload = {"ref": "refs/heads/main", "pusher": {"name": value},
               "repository": {"name": "lab1"}}
    yield "github", H.github(payload)
    yield "gitlab", H.gitlab({"object_kind": "push", "user_username": value})
    body = json.dumps({"action": "render", "who": value}).encode()
    yield "generic", (body, {"Content-Type": "application/json", "X-Delivery": uuid.uuid4().hex,
                             "X-Signature": H.generic_sig(body).hexdigest()})


@pytest.mark.parametrize("trigger", ["expression", "header_variable", "header_block"])
def test_hook_vars_are_never_templated(svc, tmp_path, trigger):
    sentinel = _fresh_sentinel(tmp_path)
    value = triggers(sentinel)[trigger]
    runs = []
    for source, (data, headers) in _hook_requests(value):
        path = {"github": "/hooks/github", "gitlab": "/hooks/gitlab",
                "generic": "/hooks/generic/ci"}[source]
        status, body, _ = H.post(svc, path, data, headers)
        assert status == 202 and body["matched"], (source, body)
        assert body["run"]["vars"]["who"] == value
        runs.append(body["run"]["id"])
    # Slack splits the text on whitespace: a trigger without spaces (${IFS} in the shell)
    slack_value = "{{lookup('pipe','touch${IFS}%s')}}" % sentinel
    status, body, _ = H.post(svc, "/hooks/slack", *H.slack(f"hello {slack_value}"))
    assert status == 200 and "Started" in body["text"], body
    runs.append(body["text"].split(" run ")[1].split(":")[0])
    for run_id in runs:
        final, stdout = _finished_stdout(svc, run_id)
        assert final["status"] == "successful", stdout[-3000:]
        assert "hello " in stdout and ("lookup('pipe'" in stdout), stdout[-2000:]
    assert not os.path.exists(sentinel), "a hook payload was templated"
