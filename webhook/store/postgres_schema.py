"""The PostgreSQL store's schema, one numbered migration after another.

``python -m webhook migrate`` applies the missing ones in a single transaction, under an
advisory lock (several hosts may run it at once); a service refuses to start on any other
version than ``LATEST``. Never edit a migration that has shipped: append the next one.
"""

LATEST = 1
MIGRATE_LOCK = 0x736b7966_6d696772   # pg_advisory_xact_lock key: "skyfmigr"

MIGRATIONS = {
    1: """
CREATE TABLE runs (
  n BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT UNIQUE NOT NULL,
  playbook TEXT NOT NULL,
  vars TEXT NOT NULL,
  lim TEXT,
  tags TEXT,
  priority INTEGER NOT NULL DEFAULT 0,
  lock_key TEXT,
  status TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL,
  expires_at DOUBLE PRECISION,
  claimed_at DOUBLE PRECISION,
  started_at DOUBLE PRECISION,
  finished_at DOUBLE PRECISION,
  rc INTEGER,
  worker_id TEXT,
  cancel_requested_at DOUBLE PRECISION,
  cleaning INTEGER NOT NULL DEFAULT 0,
  timeout DOUBLE PRECISION,
  result TEXT,
  last_seq INTEGER NOT NULL DEFAULT 0,
  idem_key TEXT UNIQUE,
  request_hash TEXT
);
CREATE INDEX runs_queue ON runs (status, priority DESC, n);
CREATE INDEX runs_lock ON runs (lock_key, status);
CREATE INDEX runs_worker ON runs (worker_id, status);
CREATE TABLE events (
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  ts DOUBLE PRECISION NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
);
CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  host TEXT, pid INTEGER, started_at DOUBLE PRECISION, heartbeat_at DOUBLE PRECISION,
  slots INTEGER, busy INTEGER, runs TEXT, stopped_at DOUBLE PRECISION
);
-- secret vars live only while the run may use them: the triggers delete them when the run
-- is over (or deleted), whichever code path ends it
CREATE TABLE run_secrets (
  run_id TEXT PRIMARY KEY,
  data TEXT NOT NULL
);
CREATE FUNCTION skyforge_forget_run_secrets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM run_secrets WHERE run_id = OLD.id;
  RETURN NULL;
END $$;
CREATE TRIGGER run_secrets_end AFTER UPDATE OF status, cleaning ON runs FOR EACH ROW
  WHEN (NEW.status IN ('successful', 'failed', 'canceled', 'error') AND NEW.cleaning = 0)
  EXECUTE FUNCTION skyforge_forget_run_secrets();
CREATE TRIGGER run_secrets_gone AFTER DELETE ON runs FOR EACH ROW
  EXECUTE FUNCTION skyforge_forget_run_secrets();
CREATE TABLE counters (
  name TEXT NOT NULL,
  labels TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (name, labels)
);
""",
}
