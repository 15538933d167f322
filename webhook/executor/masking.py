"""Mask secret values in every form a run can print them in.

A value is searched for as it is (raw) and as the encoders that stand between a playbook
and its output write it: YAML double- and single-quoted scalars, POSIX shell quoting
(``shlex.quote``, the ``quote`` filter), Python ``repr``, and each of these JSON-escaped
(ASCII-only and not) up to three times, as for JSON printed inside JSON. Out of scope, and said
so in the docs: a value split across lines or output chunks, or transformed otherwise
(base64, hashes, case changes, partial prints).
"""

import json
import shlex

import yaml

MASK = "********"
MIN_LEN = 4
JSON_LEVELS = 3


def _yaml_double(value):
    text = yaml.safe_dump(value, default_style='"', allow_unicode=True, width=1 << 30)
    return text.strip()[1:-1]


def _escaped(text, levels, ascii_only):
    out = []
    for _ in range(levels):
        text = json.dumps(text, ensure_ascii=ascii_only)[1:-1]
        out.append(text)
    return out


def forms(value):
    """Every distinct spelling of ``value`` to mask, longest first: each quoting, and each
    of those JSON-escaped up to JSON_LEVELS times (a JSON document printed inside another
    one, e.g. ``to_json | to_json`` in a task's output)."""
    quoted = {value, _yaml_double(value), value.replace("'", "''"), shlex.quote(value),
              repr(value)[1:-1]}
    found = set(quoted)
    for text in quoted:
        found.update(_escaped(text, JSON_LEVELS, True))
        found.update(_escaped(text, JSON_LEVELS, False))
    return sorted((f for f in found if len(f) >= MIN_LEN), key=len, reverse=True)


class Masker:
    def __init__(self, values):
        spelled = {f for v in values if isinstance(v, str) and len(v) >= MIN_LEN
                   for f in forms(v)}
        self.spellings = sorted(spelled, key=len, reverse=True)

    def text(self, text):
        for spelling in self.spellings:
            if spelling in text:
                text = text.replace(spelling, MASK)
        return text

    def __call__(self, value):
        """Mask every string inside ``value`` (keys too); drop environment mappings."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self(k) if isinstance(k, str) else k: self(v)
                    for k, v in value.items() if k != "env"}
        if isinstance(value, list):
            return [self(v) for v in value]
        return value
