"""JSON Schema ``pattern`` / ``patternProperties`` with their specified meaning.

JSON Schema patterns are ECMA-262 regular expressions, in which ``$`` (no multiline flag)
matches only at the very end of the string. Python's ``$`` also matches before a final
newline, so ``^[a-z]+$`` would accept ``"lab\\n"``: another lock key, another name on disk.
:func:`ecma` rewrites every ``$`` that is an anchor (not escaped, not in a class) to
``\\Z``; :func:`anchored_schema` applies it to a whole catalog schema before it is compiled.
"""

import functools
import re


DATA_KEYWORDS = ("const", "enum", "default", "examples")


@functools.lru_cache(maxsize=1024)
def ecma(pattern: str) -> str:
    out, in_class, escaped = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = r"\Z"
        out.append(char)
    return "".join(out)


def ecma_search(pattern, value):
    return re.search(ecma(pattern), value)


def anchored_schema(schema):
    """A copy of ``schema`` whose patterns anchor ``$`` at the end of the string."""
    if isinstance(schema, list):
        return [anchored_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in DATA_KEYWORDS:
            out[key] = value
        elif key == "pattern" and isinstance(value, str):
            out[key] = ecma(value)
        elif key == "patternProperties" and isinstance(value, dict):
            out[key] = {ecma(p): anchored_schema(s) for p, s in value.items()}
        elif key in ("properties", "$defs", "definitions", "dependentSchemas") \
                and isinstance(value, dict):
            out[key] = {k: anchored_schema(s) for k, s in value.items()}
        else:
            out[key] = anchored_schema(value)
    return out
