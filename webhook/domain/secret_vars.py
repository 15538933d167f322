"""Catalog vars declared secret: ``x-skyforge-secret: true`` on a top-level property.

A request may set them like any var. Their values are kept apart from the run (the store
holds them only until the run is over, the API shows ``********``), reach the playbook as
extra vars, and are masked in every event, stdout and API answer, in every form a value is
printed in (see ``webhook.executor.masking``).
"""

MARK = "x-skyforge-secret"
MASK = "********"
MIN_LEN = 4   # a shorter value would mask unrelated text everywhere


def names(schema):
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return frozenset()
    return frozenset(k for k, s in props.items() if isinstance(s, dict) and s.get(MARK) is True)


def split(schema, run_vars):
    """Return (vars with secrets masked, {name: secret value}); ValueError naming a bad one."""
    secret = {}
    for name in names(schema) & set(run_vars):
        value = run_vars[name]
        if not isinstance(value, str) or len(value) < MIN_LEN:
            raise ValueError(f"$.vars.{name}: a secret var must be a string of at least "
                             f"{MIN_LEN} characters")
        secret[name] = value
    shown = {k: (MASK if k in secret else v) for k, v in run_vars.items()}
    return shown, secret
