"""The dashboard in real headless Chromium (Debian's ``chromium``, driven by Playwright)
against the real service: log in with a token, submit a run and watch it go from queued to
successful with its log growing in place, cancel a running one, and save a screenshot."""

import os
import shutil

import pytest

from tests.ci import unavailable
from tests.webhook import hook_helpers as H
from tests.webhook.hook_helpers import authed_service  # noqa: F401 (fixture)

CHROMIUM = os.environ.get("SKYFORGE_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT = 30_000  # ms


def _need(what, why):
    unavailable(f"{what} is missing: {why}")


@pytest.fixture
def browser(tmp_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("playwright", ".venv/bin/pip install playwright==1.65.2")
    if not shutil.which(CHROMIUM):
        _need(CHROMIUM, "apt-get install -y chromium")
    profile = tmp_path / "chromium-profile"      # a fresh profile for every test
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1400, "height": 900})
        yield context
        context.close()


@pytest.fixture
def artifacts(tmp_path):
    directory = os.environ.get("SKYFORGE_TEST_ARTIFACTS") or str(tmp_path / "artifacts")
    os.makedirs(directory, exist_ok=True)
    return directory


def status_of(page):
    return page.get_attribute("#run-status", "data-status")


def test_dashboard_submit_watch_and_cancel(authed_service, browser, artifacts):
    svc = authed_service(workers=1)
    base = f"http://127.0.0.1:{svc.port}/"
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(base)

    # without a token the page says so and stays offline
    page.wait_for_selector("#message:not([hidden])", timeout=WAIT)
    assert "Enter a valid API token" in page.inner_text("#message")
    assert page.inner_text("#live") == "off"

    # log in as an operator: identity, live overview, the submit form
    page.fill("#token", H.TOKENS["operator"])
    page.click("#login-button")
    page.wait_for_function("() => document.getElementById('whoami').textContent"
                           ".includes('operator')", timeout=WAIT)
    page.wait_for_function("() => document.getElementById('live').textContent === 'on'",
                           timeout=WAIT)
    page.wait_for_function("() => document.getElementById('workers-alive').textContent === '1'",
                           timeout=WAIT)
    assert page.is_visible("#submit")
    page.evaluate("window.__sameDocument = true")   # proves nothing below reloads the page

    # hold the lock 'L' so the next run visibly waits in the queue
    blocker = H.call(svc, "POST", "/api/v1/runs", "operator",
                     {"playbook": "slow", "vars": {"seconds": 3, "lab": "L"}})[1]
    page.select_option("#playbook", "quick")
    page.fill("#vars", '{"who": "dashboard", "lab": "L"}')
    page.click("#submit-button")
    page.wait_for_function("() => location.hash.startsWith('#run=')", timeout=WAIT)
    run_id = page.evaluate("location.hash.slice(5)")
    page.wait_for_selector("#run-status[data-status='queued']", timeout=WAIT)
    page.wait_for_selector(f"#runs tr[data-run-id='{run_id}'][data-status='queued']",
                           timeout=WAIT)
    assert int(page.inner_text("#queue-depth")) >= 1
    assert page.inner_text("#busy") == "yes"
    page.wait_for_selector("#run-status[data-status='successful']", timeout=WAIT)
    page.wait_for_function("() => document.getElementById('log').textContent.includes('hello "
                           "dashboard')", timeout=WAIT)
    log = page.inner_text("#log")
    assert "run.queued" in log and "run.started" in log and "run.finished successful" in log
    assert log.index("run.started") < log.index("hello dashboard") < log.index("run.finished")
    page.wait_for_selector(f"#runs tr[data-run-id='{run_id}'][data-status='successful']",
                           timeout=WAIT)
    assert svc.run(run_id)["status"] == "successful"
    assert svc.wait(blocker["id"])["status"] == "successful"

    # a long run: its log tails in place, then the operator cancels it from the page
    long_run = H.call(svc, "POST", "/api/v1/runs", "operator",
                      {"playbook": "slow_plain", "vars": {"seconds": 120}})[1]
    page.click(f"#runs tr[data-run-id='{long_run['id']}']")
    page.wait_for_selector("#run-status[data-status='running']", timeout=WAIT)
    page.wait_for_function("() => document.getElementById('log').textContent.includes("
                           "'sleeping 120s')", timeout=WAIT)
    page.wait_for_selector("#cancel:not([hidden])", timeout=WAIT)
    page.screenshot(path=os.path.join(artifacts, "dashboard-running.png"), full_page=True)
    page.click("#cancel")
    page.wait_for_selector("#run-status[data-status='canceled']", timeout=WAIT)
    page.wait_for_function("() => document.getElementById('log').textContent.includes("
                           "'cancel.applied')", timeout=WAIT)
    assert page.is_hidden("#cancel")
    assert svc.wait(long_run["id"])["status"] == "canceled"
    assert page.evaluate("window.__sameDocument") is True
    shot = os.path.join(artifacts, "dashboard.png")
    page.screenshot(path=shot, full_page=True)
    print(f"\ndashboard screenshots: {artifacts}/dashboard.png, dashboard-running.png")
    assert os.path.getsize(shot) > 10_000
    assert errors == []


def test_a_viewer_sees_runs_but_no_submit_or_cancel(authed_service, browser):
    svc = authed_service(workers=1)
    run = H.call(svc, "POST", "/api/v1/runs", "operator",
                 {"playbook": "slow_plain", "vars": {"seconds": 30}})[1]
    page = browser.new_page()
    page.goto(f"http://127.0.0.1:{svc.port}/#run={run['id']}")
    page.fill("#token", H.TOKENS["viewer"])
    page.click("#login-button")
    page.wait_for_selector("#run-status[data-status='running']", timeout=WAIT)
    page.wait_for_function("() => document.getElementById('log').textContent.includes("
                           "'sleeping 30s')", timeout=WAIT)
    assert page.is_hidden("#submit") and page.is_hidden("#cancel")
    # the token lives in this tab's sessionStorage only
    assert page.evaluate("sessionStorage.getItem('skyforge.token')") == H.TOKENS["viewer"]
    assert page.evaluate("localStorage.length") == 0
    H.call(svc, "POST", f"/api/v1/runs/{run['id']}/cancel", "operator")
    page.wait_for_selector("#run-status[data-status='canceled']", timeout=WAIT)
