"""What a run request may carry besides what its catalog schema checks.

Extra vars have the highest precedence in Ansible, so a request could override connection
settings (``ansible_*``) or shadow magic variables (``hostvars``, ``omit``…): refused with a
422 naming the JSON path, unless the root schema lists the name in
``x-skyforge-allow-reserved: [ansible_user, ...]``. Top-level var names must be
identifiers (Ansible cannot use any other name), and nesting is bounded.

Template syntax is not refused here: every string of a request reaches Ansible marked
``!unsafe`` (``webhook.executor.extravars``) and is never templated. A (sub)schema with
``x-skyforge-allow-templates: true`` lets the strings at that place and below stay
templatable; :func:`trusted_paths` names them.
"""

import re

from ..errors import ApiError
from .schema_regex import ecma_search

ALLOW_TEMPLATES = "x-skyforge-allow-templates"
ALLOW_RESERVED = "x-skyforge-allow-reserved"
RESERVED = frozenset({
    "environment", "group_names", "groups", "hostvars", "inventory_dir", "inventory_file",
    "inventory_hostname", "inventory_hostname_short", "lookup", "omit", "play_hosts",
    "playbook_dir", "q", "query", "role_name", "role_names", "role_path", "vars",
})
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_DEPTH = 32


def _path(parts):
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def reserved_name(name: str) -> bool:
    return name.lower().startswith("ansible_") or name in RESERVED


def _children(schema, key):
    """The subschemas that apply to ``key`` of an object / item ``key`` of an array."""
    if not isinstance(schema, dict):
        return []
    found = []
    if isinstance(key, int):
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list) and key < len(prefix):
            found.append(prefix[key])
        elif isinstance(schema.get("items"), dict):
            found.append(schema["items"])
        return found
    props = schema.get("properties")
    if isinstance(props, dict) and key in props:
        found.append(props[key])
    for pattern, sub in (schema.get("patternProperties") or {}).items():
        try:
            if ecma_search(pattern, key):
                found.append(sub)
        except re.error:
            continue
    if not found and isinstance(schema.get("additionalProperties"), dict):
        found.append(schema["additionalProperties"])
    return found


def _allows(schemas):
    return any(isinstance(s, dict) and s.get(ALLOW_TEMPLATES) is True for s in schemas)


def _refuse(path, message):
    raise ApiError(422, f"{_path(path)}: {message}", path=_path(path))


def _walk(value, schemas, allowed, path, found):
    """Collect into ``found`` the paths of strings the schema lets Ansible template."""
    allowed = allowed or _allows(schemas)
    if len(path) > MAX_DEPTH:
        _refuse(["vars"] + path, f"vars are nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        if allowed:
            found.add(tuple(path))
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk(item, [c for s in schemas for c in _children(s, key)], allowed, path + [key],
                  found)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _walk(item, [c for s in schemas for c in _children(s, n)], allowed, path + [n],
                  found)
    return found


def trusted_paths(schema, run_vars):
    """Paths (tuples from the top of ``run_vars``) of the strings that stay templatable."""
    return frozenset(_walk(run_vars, [schema], False, [], set()))


def check(schema, request):
    """Refuse reserved or non-identifier var names and too deep nesting; ApiError(422)."""
    run_vars = request.get("vars")
    if isinstance(run_vars, dict):
        allowed_reserved = set(schema.get(ALLOW_RESERVED) or ())
        for name in run_vars:
            if not IDENTIFIER.fullmatch(name):
                _refuse(["vars", name], f"var name '{name}' is not an identifier "
                                        "(letters, digits and _, not starting with a digit)")
            if reserved_name(name) and name not in allowed_reserved:
                _refuse(["vars", name], f"'{name}' is a reserved Ansible variable and cannot be "
                                        "set by a request")
        trusted_paths(schema, run_vars)
