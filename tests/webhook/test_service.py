"""submit_run, the entry point the API and the triggers share (in-process)."""

import pytest

from webhook import config
from webhook.domain import runs as service
from webhook.errors import ApiError
from webhook.store.backends import open_store
from tests.webhook.conftest import write_config


@pytest.fixture
def setup(tmp_path, store_url):
    cfg = config.load(write_config(str(tmp_path), store={"url": store_url}))
    store = open_store(cfg)
    yield cfg, store
    store.close()


def test_lock_key_from_jmespath_and_idempotent_replay(setup):
    cfg, store = setup
    run, created = service.submit_run(cfg, store, {"playbook": "quick", "vars": {"lab": "x"}},
                                      "key")
    assert created and run["lock_key"] == "x" and run["status"] == "queued"
    again, created = service.submit_run(cfg, store, {"playbook": "quick", "vars": {"lab": "x"}},
                                        "key")
    assert not created and again["id"] == run["id"]
    assert service.submit_run(cfg, store, {"playbook": "quick"})[0]["lock_key"] is None


def test_cancel_run_errors(setup):
    cfg, store = setup
    with pytest.raises(ApiError) as err:
        service.cancel_run(store, "missing")
    assert err.value.status == 404
