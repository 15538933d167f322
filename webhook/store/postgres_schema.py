"""The PostgreSQL store's schema, one numbered migration after another.

``python -m webhook migrate`` applies the missing ones in a single transaction, under an
advisory lock (several hosts may run it at once); a service refuses to start on any other
version than ``LATEST``. Never edit a migration that has shipped: append the next one.
"""

from . import schema

LATEST = 2
MIGRATE_LOCK = 0x736b7966_6d696772   # pg_advisory_xact_lock key: "skyfmigr"
# NOTIFY payloads: 'q' + run id (a run entered or left the queue, or changed its status or
# clean-up: a lock may be free), 'e' + run id (its events), 'w' (a worker changed)
CHANNEL = "skyforge_changes"

MIGRATIONS = {
    1: schema.step(1, "postgresql") + """
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
""",
    # every change of a run (its events bump runs.last_seq) is announced in the transaction
    # that makes it: listeners on other hosts learn of it at its commit, never before
    2: schema.step(2, "postgresql") + f"""
CREATE FUNCTION skyforge_queue_depth() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  delta INTEGER := 0;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'queued' THEN delta := delta - 1; END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status = 'queued' THEN delta := delta + 1; END IF;
  IF delta <> 0 THEN
    UPDATE queue_depth SET queued = queued + delta WHERE id = 1;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER runs_queue_depth AFTER INSERT OR UPDATE OF status OR DELETE ON runs
  FOR EACH ROW EXECUTE FUNCTION skyforge_queue_depth();
CREATE FUNCTION skyforge_notify_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('{CHANNEL}', 'q' || OLD.id);
  ELSIF TG_OP = 'UPDATE' AND NEW.status = OLD.status AND NEW.cleaning = OLD.cleaning THEN
    PERFORM pg_notify('{CHANNEL}', 'e' || NEW.id);
  ELSE
    PERFORM pg_notify('{CHANNEL}', 'q' || NEW.id);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER runs_notify AFTER INSERT OR UPDATE OR DELETE ON runs
  FOR EACH ROW EXECUTE FUNCTION skyforge_notify_run();
CREATE FUNCTION skyforge_notify_workers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('{CHANNEL}', 'w');
  RETURN NULL;
END $$;
CREATE TRIGGER workers_notify AFTER INSERT OR UPDATE OR DELETE ON workers
  FOR EACH STATEMENT EXECUTE FUNCTION skyforge_notify_workers();
""",
}
