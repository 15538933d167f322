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


_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


class _Unusual(Exception):
    """A node _build leaves to the loader's own constructor for the whole document."""


def _build(node, loader, built):
    """What the safe constructor makes of `node`, for the bulk of a document (str scalars,
    plain mappings and sequences) without its per-node generator machinery; other scalars
    (int, bool, null, ...) go through the loader's constructor; merge keys (`<<`) and
    non-scalar keys raise _Unusual. An alias is the same object, as the constructor makes it."""
    tag = node.tag
    if tag == _STR_TAG:
        return node.value
    done = built.get(id(node))
    if done is not None:
        return done
    if tag == _MAP_TAG:
        mapping = built[id(node)] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in (_STR_TAG, "tag:yaml.org,2002:int"):
                raise _Unusual()
            mapping[_build(key_node, loader, built)] = _build(value_node, loader, built)
        return mapping
    if tag == _SEQ_TAG:
        sequence = built[id(node)] = []
        sequence.extend(_build(child, loader, built) for child in node.value)
        return sequence
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_object(node, deep=True)
    raise _Unusual()


def load(text):
    """One YAML document, safely (no object construction): yaml.load(text, Loader) with
    the common shapes built directly (_build), a third of the load time at 1,000 nodes."""
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            return _build(node, loader, {})
        except _Unusual:
            return loader.construct_document(node)
    finally:
        loader.dispose()


def dump_yaml(obj, sort_keys=True):
    return yaml.dump(obj, Dumper=_BlockDumper, default_flow_style=False, sort_keys=sort_keys,
                     allow_unicode=True, width=2 ** 30)
