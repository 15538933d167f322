"""What a user reads about runs: plain /stdout, why a run failed, the workers that exist."""

import time

import pytest


@pytest.fixture
def reports_service(make_service):
    # the example config of old: FORCE_COLOR "0" does not stop ansible colouring a pty
    return make_service(executor={"env": {"ANSIBLE_FORCE_COLOR": "0"}})


def test_stdout_has_no_terminal_escapes(reports_service):
    svc = reports_service
    run = svc.submit("slow_plain", vars={"seconds": "nope"})
    assert svc.wait(run["id"])["status"] == "failed"
    stdout = svc.request("GET", f"/api/v1/runs/{run['id']}/stdout")[1]
    assert "TASK [Sleep]" in stdout and "fatal: [localhost]" in stdout
    assert "\x1b" not in stdout, repr(stdout[:500])


def test_a_failed_run_says_which_task_failed_and_why(reports_service):
    svc = reports_service
    run = svc.submit("slow_plain", vars={"seconds": "nope"})   # `sleep nope` fails
    done = svc.wait(run["id"])
    assert done["status"] == "failed"
    assert done["reason"].startswith("task 'Sleep' failed on localhost: "), done["reason"]
    assert "non-zero return code" in done["reason"] or "invalid time interval" in done["reason"]
    ok = svc.wait(svc.submit("quick")["id"])
    assert ok["status"] == "successful" and ok["reason"] is None


def test_status_forgets_workers_of_earlier_starts(make_service):
    svc = make_service(workers=0, retention={"interval": 0.5})
    first = svc.start_worker("first")
    first.terminate()                  # a worker of an earlier start, stopped
    first.wait(timeout=30)
    svc.start_worker("second")
    deadline = time.time() + 30
    while time.time() < deadline:
        ids = [w["id"] for w in svc.get("/api/v1/status")["workers"]]
        if ids == ["second"]:
            break
        time.sleep(0.1)
    assert ids == ["second"]
