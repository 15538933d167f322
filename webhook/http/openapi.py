"""The OpenAPI 3.1 document served at /api/v1/openapi.json.

The contract itself is data, ``openapi.yaml`` beside this file; only what depends on the
deployment is filled in here: the catalog (each entry's name and vars schema, so a client
or a fuzzer knows which submissions are valid) and the configured generic hooks.
"""

import copy
import functools
import os

import yaml

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openapi.yaml")
REF = "#/components/schemas/"


@functools.lru_cache(maxsize=1)
def _base():
    with open(SOURCE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _vars_schema(entry_schema):
    """The entry's schema plus what the service checks besides it (var names)."""
    names = {"$ref": REF + "VarName"}
    allowed = entry_schema.get("x-skyforge-allow-reserved") or []
    if allowed:
        names = {"anyOf": [names, {"enum": sorted(allowed)}]}
    return {"allOf": [{"type": "object", "propertyNames": names}, entry_schema]}


def _run_request(generic, playbooks):
    """One alternative per catalog entry: its name and its vars schema."""
    options = []
    for name in sorted(playbooks):
        option = copy.deepcopy(generic)
        option["title"] = name
        option["properties"]["playbook"] = {"const": name}
        option["properties"]["vars"] = _vars_schema(playbooks[name].schema)
        if playbooks[name].description:
            option["description"] = playbooks[name].description
        options.append(option)
    if not options:
        return generic
    return {"description": "A submission: one of the catalog's entries.", "oneOf": options}


def _open_access(doc, auth):
    """Operations the deployment opens (auth.anonymous_role, auth.open_metrics) need no
    token: their security gains the empty requirement."""
    roles = ("viewer", "operator", "admin")
    anonymous = roles.index(auth.anonymous_role) if auth.anonymous_role else -1
    for path, item in doc["paths"].items():
        for op in (op for key, op in item.items() if key != "parameters"):
            security = op.get("security", doc["security"])
            needed = [roles.index(role) for req in security for role in req.get("bearer", ())]
            if needed and (min(needed) <= anonymous or (path == "/metrics" and auth.open_metrics)):
                op["security"] = security + [{}]


def openapi_document(config=None):
    """The document; with ``config``, for that deployment (catalog, generic hooks)."""
    doc = copy.deepcopy(_base())
    if config is None:
        return doc
    schemas = doc["components"]["schemas"]
    schemas["RunRequest"] = _run_request(schemas["RunRequest"], config.playbooks)
    submit = doc["paths"]["/api/v1/runs"]["post"]["requestBody"]["content"]["application/json"]
    submit["examples"] = {name: {"value": {"playbook": name}} for name in sorted(config.playbooks)}
    if config.extra.get("auth") is not None:
        _open_access(doc, config.extra["auth"])
    hooks = config.extra.get("hooks")
    generic = sorted(name.split("/", 1)[1] for name in (hooks.sources if hooks else ())
                     if name.startswith("generic/"))
    if generic:
        name_param = doc["paths"]["/hooks/generic/{name}"]["post"]["parameters"][0]
        name_param["schema"] = {"type": "string", "enum": generic}
    return doc
