"""What a run request may carry besides what its catalog schema checks.

Extra vars have the highest precedence in Ansible and their strings are templated when
used, so a request could override connection settings (``ansible_*``), shadow magic
variables (``hostvars``, ``omit``…) or smuggle Jinja (``{{ lookup('pipe', …) }}``).
Refused, with a 422 naming the JSON path, unless the catalog schema opts in:

* ``x-skyforge-allow-templates: true`` on a (sub)schema lets strings at that place and
  below contain ``{{``, ``{%`` or ``{#`` (on the root schema: everywhere);
* ``x-skyforge-allow-reserved: [ansible_user, ...]`` on the root schema allows those
  reserved top-level names.

Top-level var names must also be identifiers (Ansible cannot use any other name).
"""

import re

ALLOW_TEMPLATES = "x-skyforge-allow-templates"
ALLOW_RESERVED = "x-skyforge-allow-reserved"
TEMPLATE_MARKERS = ("{{", "{%", "{#")
RESERVED = frozenset({
    "environment", "group_names", "groups", "hostvars", "inventory_dir", "inventory_file",
    "inventory_hostname", "inventory_hostname_short", "lookup", "omit", "play_hosts",
    "playbook_dir", "q", "query", "role_name", "role_names", "role_path", "vars",
})
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
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
            if re.search(pattern, key):
                found.append(sub)
        except re.error:
            continue
    if not found and isinstance(schema.get("additionalProperties"), dict):
        found.append(schema["additionalProperties"])
    return found


def _allows(schemas):
    return any(isinstance(s, dict) and s.get(ALLOW_TEMPLATES) is True for s in schemas)


def _refuse(path, message):
    from .service import ApiError  # service calls check(): import here, not at load
    raise ApiError(422, f"{_path(path)}: {message}", path=_path(path))


def _walk(value, schemas, allowed, path):
    allowed = allowed or _allows(schemas)
    if len(path) > MAX_DEPTH:
        _refuse(path, f"vars are nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        marker = next((m for m in TEMPLATE_MARKERS if m in value), None)
        if marker and not allowed:
            _refuse(path, f"template syntax '{marker}' is not allowed in values (Ansible would "
                          f"evaluate it); the catalog schema can allow it with "
                          f"'{ALLOW_TEMPLATES}: true'")
    elif isinstance(value, dict):
        for key, item in value.items():
            if any(m in key for m in TEMPLATE_MARKERS):
                _refuse(path + [key], "template syntax is not allowed in names")
            subs = [c for s in schemas for c in _children(s, key)]
            _walk(item, subs, allowed, path + [key])
    elif isinstance(value, list):
        for n, item in enumerate(value):
            subs = [c for s in schemas for c in _children(s, n)]
            _walk(item, subs, allowed, path + [n])


def check(schema, request):
    """Refuse reserved or non-identifier var names and template syntax in ``request``
    (``vars``, ``limit`` and ``tags``); raise ApiError(422) naming the path."""
    run_vars = request.get("vars")
    if isinstance(run_vars, dict):
        allowed_reserved = set(schema.get(ALLOW_RESERVED) or ())
        for name in run_vars:
            if not IDENTIFIER.match(name):
                _refuse(["vars", name], f"var name '{name}' is not an identifier "
                                        "(letters, digits and _, not starting with a digit)")
            if reserved_name(name) and name not in allowed_reserved:
                _refuse(["vars", name], f"'{name}' is a reserved Ansible variable and cannot be "
                                        "set by a request")
        _walk(run_vars, [schema], False, ["vars"])
    limit = request.get("limit")
    if isinstance(limit, str):
        _walk(limit, [], False, ["limit"])
    tags = request.get("tags")
    if isinstance(tags, (str, list)):
        _walk(tags, [], False, ["tags"])
