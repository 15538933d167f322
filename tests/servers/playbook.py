"""Run a playbook for real (ansible-runner driving ansible-playbook) and return task results."""

import json
import os
import sys

import ansible_runner

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, ".skyforge", "collections")


def run_playbook(workdir, plays, extravars=None):
    """(rc, {task name: result}, runner) for `plays` (a list of play dicts, or the path of a
    playbook) run against localhost."""
    workdir = str(workdir)
    project = os.path.join(workdir, "project")
    os.makedirs(project, exist_ok=True)
    playbook = plays if isinstance(plays, str) else os.path.join(project, "play.yml")
    if not isinstance(plays, str):
        with open(playbook, "w") as handle:
            json.dump(plays, handle)
    results = {}

    def on_event(event):
        data = event.get("event_data", {})
        if event.get("event") in ("runner_on_ok", "runner_on_failed", "runner_on_skipped"):
            results.setdefault(data.get("task"), []).append(dict(data.get("res", {}), _event=event["event"]))
        return True

    # ansible-runner finds ansible-playbook on PATH: put this interpreter's bin dir first.
    saved_path = os.environ.get("PATH", "")
    os.environ["PATH"] = os.path.dirname(os.path.abspath(sys.executable)) + os.pathsep + saved_path
    try:
        runner = ansible_runner.run(
            private_data_dir=workdir, playbook=playbook, inventory="localhost ansible_connection=local",
            extravars=extravars or {}, quiet=True, event_handler=on_event,
            envvars={"ANSIBLE_COLLECTIONS_PATH": COLLECTIONS, "ANSIBLE_LOCALHOST_WARNING": "false",
                     "ANSIBLE_PYTHON_INTERPRETER": sys.executable},
        )
    finally:
        os.environ["PATH"] = saved_path
    # One result per task name (the last, e.g. after a loop's items): what tests look at.
    return runner.rc, dict((name, found[-1]) for name, found in results.items()), runner
