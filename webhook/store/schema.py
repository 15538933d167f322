"""The tables of the run store, written once for both engines, one numbered step per
schema version (``STEPS``).

``step(version, engine)`` fills in what the engines spell differently: the type of
timestamps (REAL, DOUBLE PRECISION), the run counter and SQLite's WITHOUT ROWID. Triggers
are each engine's own (``sqlite``, ``postgres_schema``). A later change is a new numbered
step for both engines, never an edit of a version that shipped.
"""

TABLES = """
CREATE TABLE IF NOT EXISTS runs (
  n {serial},
  id TEXT UNIQUE NOT NULL,
  playbook TEXT NOT NULL,
  vars TEXT NOT NULL,
  lim TEXT,
  tags TEXT,
  priority INTEGER NOT NULL DEFAULT 0,
  lock_key TEXT,
  status TEXT NOT NULL,
  created_at {real} NOT NULL,
  expires_at {real},
  claimed_at {real},
  started_at {real},
  finished_at {real},
  rc INTEGER,
  worker_id TEXT,
  cancel_requested_at {real},
  cleaning INTEGER NOT NULL DEFAULT 0,
  timeout {real},
  result TEXT,
  last_seq INTEGER NOT NULL DEFAULT 0,
  idem_key TEXT UNIQUE,
  request_hash TEXT
);
CREATE INDEX IF NOT EXISTS runs_queue ON runs(status, priority DESC, n);
CREATE INDEX IF NOT EXISTS runs_lock ON runs(lock_key, status);
CREATE INDEX IF NOT EXISTS runs_worker ON runs(worker_id, status);
CREATE TABLE IF NOT EXISTS events (
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  ts {real} NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
){without_rowid};
CREATE TABLE IF NOT EXISTS workers (
  id TEXT PRIMARY KEY,
  host TEXT, pid INTEGER, started_at {real}, heartbeat_at {real},
  slots INTEGER, busy INTEGER, runs TEXT, stopped_at {real}
);
-- values of catalog vars declared x-skyforge-secret: kept only while the run may still use
-- them (queued, running, its on_cancel clean-up); triggers delete them as soon as the run
-- is over, whichever code path ends it
CREATE TABLE IF NOT EXISTS run_secrets (
  run_id TEXT PRIMARY KEY,
  data TEXT NOT NULL
){without_rowid};
CREATE TABLE IF NOT EXISTS counters (
  name TEXT NOT NULL, labels TEXT NOT NULL, value {real} NOT NULL,
  PRIMARY KEY (name, labels)
){without_rowid};
"""

# version 2: what the hooks remember (shared by every replica, not a file of one host) and
# the exact depth of the queue, one row kept by triggers on runs: a submission locks it,
# so concurrent submissions never queue more than queue.max_depth
HOOKS_AND_DEPTH = """
CREATE TABLE IF NOT EXISTS hook_seen (
  key TEXT PRIMARY KEY,
  expires_at {real} NOT NULL
){without_rowid};
CREATE INDEX IF NOT EXISTS hook_seen_expiry ON hook_seen(expires_at);
CREATE TABLE IF NOT EXISTS hook_aliases (
  alias TEXT PRIMARY KEY,
  run_key TEXT NOT NULL,
  expires_at {real} NOT NULL
){without_rowid};
CREATE INDEX IF NOT EXISTS hook_aliases_expiry ON hook_aliases(expires_at);
CREATE TABLE IF NOT EXISTS queue_depth (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  queued INTEGER NOT NULL
);
INSERT INTO queue_depth (id, queued) SELECT 1, count(*) FROM runs WHERE status = 'queued'
  ON CONFLICT (id) DO NOTHING;
"""

STEPS = {1: TABLES, 2: HOOKS_AND_DEPTH}

ENGINES = {
    "sqlite": {"serial": "INTEGER PRIMARY KEY AUTOINCREMENT", "real": "REAL",
               "without_rowid": " WITHOUT ROWID"},
    "postgresql": {"serial": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
                   "real": "DOUBLE PRECISION", "without_rowid": ""},
}


def step(version, engine):
    return STEPS[version].format(**ENGINES[engine])
