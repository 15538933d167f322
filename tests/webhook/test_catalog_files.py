"""A catalog var that picks a file takes a name from the catalog's table, never a path: the
run gets the file the name maps to; a path, `..`, an absolute path or an unknown name is
refused with 422 naming the allowed names, and nothing is queued."""

import os

import pytest

from tests.webhook.conftest import PLAYBOOKS, Service, catalog, write_config
from webhook import config


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    directory = tmp_path_factory.mktemp("files")
    entry = dict(catalog()["quick"], schema={"type": "object", "additionalProperties": False,
                                            "required": ["who"], "properties": {}},
                 files={"who": {"first": os.path.join(PLAYBOOKS, "quick.yml"),
                                "second": os.path.join(PLAYBOOKS, "slow.yml")}})
    service = Service(directory, playbooks={"pick": entry})
    try:
        service.start_api()
        service.start_worker()
        yield service
    finally:
        service.stop()


def test_the_run_gets_the_file_the_name_maps_to(svc):
    run = svc.submit("pick", vars={"who": "second"})
    assert svc.wait(run["id"])["status"] == "successful"
    stdout = svc.request("GET", f"/api/v1/runs/{run['id']}/stdout")[1]
    assert "hello " + os.path.join(PLAYBOOKS, "slow.yml") in stdout
    assert svc.run(run["id"])["vars"] == {"who": "second"}   # the request, as sent


@pytest.mark.parametrize("value", [
    "quick.yml", os.path.join("playbooks", "quick.yml"), "../quick.yml", "first/../second",
    os.path.join(PLAYBOOKS, "quick.yml"), "/etc/passwd", "third", "First", "first\n"])
def test_anything_but_a_name_is_refused_naming_the_names(svc, value):
    before = svc.get("/api/v1/runs?limit=1")
    status, body, _ = svc.request("POST", "/api/v1/runs", {"playbook": "pick",
                                                          "vars": {"who": value}})
    assert status == 422, body
    assert "'first'" in body["error"] and "'second'" in body["error"], body
    assert svc.get("/api/v1/runs?limit=1") == before


def test_a_name_mapped_to_a_missing_file_is_a_config_error(tmp_path):
    entry = dict(catalog()["quick"], files={"who": {"gone": "nowhere/topology.yml"}})
    with pytest.raises(config.ConfigError,
                       match=r"files\.who\.gone: no file 'nowhere/topology.yml'"):
        config.load(write_config(str(tmp_path), playbooks={"pick": entry}))
