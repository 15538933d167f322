# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PyYAML as every part of the collection uses it: the fast (libyaml) safe loaders when
compiled in, and one dumper for the YAML we write (sorted keys, literal blocks for
multi-line strings, no line folding). HAS_YAML is False without PyYAML; modules report
missing_required_lib then.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_INLINE_FLAGS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"), (re.VERBOSE, "x"))


def implicit_matcher(resolvers):
    """One pattern that matches every plain scalar some implicit resolver in `resolvers`
    (a yaml_implicit_resolvers table) matches, or None when their flags cannot be
    combined. A scalar it does not match resolves to str, so one regex call replaces
    the resolver's per-scalar Python loop; a match goes to the resolver itself."""
    parts = set()
    for entries in resolvers.values():
        for _tag, regexp in entries:
            flags = regexp.flags & ~re.UNICODE
            inline = "".join(letter for flag, letter in _INLINE_FLAGS if flags & flag)
            if flags & ~sum(flag for flag, _letter in _INLINE_FLAGS):
                return None
            parts.add("(?%s:%s)" % (inline, regexp.pattern) if inline else "(?:%s)" % regexp.pattern)
    return re.compile("|".join(sorted(parts))) if parts else re.compile(r"(?!)")


try:
    import yaml
    HAS_YAML = True
    Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    # every scalar a string: ConfigMaps hold only strings, and this is a third faster
    StringLoader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
    YAMLError = yaml.YAMLError
    _Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
except ImportError:
    yaml = None
    HAS_YAML = False
    Loader = StringLoader = None
    YAMLError = ValueError
    _Dumper = object


class _BlockDumper(_Dumper):
    """Multi-line strings as literal blocks (readable configs); the emitter falls back to
    quoted style by itself when a string cannot round-trip as a block."""


def _represent_str(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


if HAS_YAML:
    _BlockDumper.add_representer(str, _represent_str)


def load(text):
    """One YAML document, safely (no object construction)."""
    return yaml.load(text, Loader=Loader)  # nosec B506 - a SafeLoader


def dump_yaml(obj, sort_keys=True):
    return yaml.dump(obj, Dumper=_BlockDumper, default_flow_style=False, sort_keys=sort_keys,
                     allow_unicode=True, width=2 ** 30)
