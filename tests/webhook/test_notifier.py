"""The per-process change notifier wakes a run's streams for changes of that run only."""

import time
import uuid

from webhook.http.events import Notifier
from webhook.store.sqlite import SqliteStore


def queue(store):
    run = {"id": uuid.uuid4().hex, "playbook": "p", "vars": {}, "priority": 0,
           "lock_key": None, "created_at": time.time(), "expires_at": None, "timeout": 60}
    return store.submit(run, None, "h", 1000)[0]["id"]


def test_a_new_watch_is_woken_by_its_runs_change_not_by_other_commits(tmp_path):
    # two stores on one file: the API process's notifier, and another process's writes
    path = str(tmp_path / "runs.sqlite3")
    writer, reader = SqliteStore(path), SqliteStore(path)
    quiet = queue(writer)
    notifier = Notifier(reader, 0.005)
    with notifier.watching(quiet) as watch:
        generation = watch.generation
        seen = notifier.current()
        deadline = time.monotonic() + 30
        while notifier.current() == seen:   # until the notifier has handled other commits
            queue(writer)
            notifier.wait(seen, 0.2)
            assert time.monotonic() < deadline
        # 1,000 streams on queued runs were each woken (and re-read the store) once here
        assert watch.generation == generation
        writer.request_cancel(quiet)
        assert notifier.wait_run(watch, generation, 30) != generation
