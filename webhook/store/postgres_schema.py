"""The PostgreSQL store's schema, one numbered migration after another.

``python -m webhook migrate`` applies the missing ones in a single transaction, under an
advisory lock (several hosts may run it at once); a service refuses to start on any other
version than ``LATEST``. Never edit a migration that has shipped: append the next one.
"""

from . import schema

LATEST = 1
MIGRATE_LOCK = 0x736b7966_6d696772   # pg_advisory_xact_lock key: "skyfmigr"

MIGRATIONS = {
    1: schema.tables("postgresql") + """
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
}
