"""Queue depth check benchmark: `.venv/bin/python bench/bench_store_depth.py [--queued N]`.

With N runs queued (default 20,000), the cost of one submission (the queue.max_depth check
on the queue_depth row + the insert + its run.queued event) against the cost of the check
this replaced (``SELECT EXISTS (... status = 'queued' LIMIT 1 OFFSET max_depth - 1)``,
which walks max_depth index entries), on SQLite and on a throwaway PostgreSQL.
"""

import argparse
import os
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.servers.postgres import PostgresServer  # noqa: E402
from webhook.store import url as store_url  # noqa: E402
from webhook.store.backends import migrate, open_url  # noqa: E402

ROUNDS = 300
UNLIMITED = 10 ** 9


def submit(store):
    run = {"id": uuid.uuid4().hex, "playbook": "p", "vars": {}, "priority": 0,
           "created_at": time.time()}
    store.submit(run, None, "h", UNLIMITED)


def measure(store, label, queued):
    for _ in range(queued):
        submit(store)
    start = time.perf_counter()
    for _ in range(ROUNDS):
        submit(store)
    new = (time.perf_counter() - start) / ROUNDS * 1e3
    start = time.perf_counter()
    for _ in range(ROUNDS):
        store._read("SELECT EXISTS (SELECT 1 FROM runs WHERE status = 'queued' "
                    "LIMIT 1 OFFSET ?)", (queued - 1,))
    old = (time.perf_counter() - start) / ROUNDS * 1e3
    print(f"{label:<10} {queued:>7,} queued: a whole submission {new:6.2f} ms; "
          f"the former OFFSET check alone {old:6.2f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--queued", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_url(store_url.parse(f"sqlite:///{tmp}/db.sqlite3", "/"))
        measure(store, "sqlite", args.queued)
    server = PostgresServer(tempfile.mkdtemp(prefix="skyforge-pg-bench-"))
    server.start()
    try:
        url = store_url.parse(server.url, "/")
        migrate(url)
        store = open_url(url)
        measure(store, "postgresql", args.queued)
        store.close()
    finally:
        server.destroy()


if __name__ == "__main__":
    main()
