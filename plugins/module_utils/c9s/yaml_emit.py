# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""YAML text for the objects c9s_render writes, without PyYAML's Python representer.

emit(obj, dump) returns exactly what dump(obj) (c9s.dump_yaml: PyYAML, block style,
sorted keys, unicode allowed, no line wrapping, multi-line strings as literal blocks)
returns, or None when obj holds anything this module cannot prove it writes the same
way; the caller then uses the generic dumper.  What it writes itself:

- mappings with string keys, lists, True/False, None, ints;
- one-line strings of [A-Za-z0-9_] followed by [A-Za-z0-9_./-] (names, paths, keys,
  label values), plain or, when PyYAML's resolver would read them back as something
  else (`true`, `123`), single-quoted; base64 (binaryData) likewise;
- multi-line strings that a literal block carries as they are: only printable
  characters and line feeds (no tab, CR, NEL, U+2028/9, BOM, astral plane), not starting
  with a space or a line break, no space before a line break or at the end (`|`, `|-`,
  and `|+` when the generic dumper is known and the document does not end on it: after
  a `|+` block libyaml ends the document with `...`, PyYAML's own emitter does not;
  indentation indicators are left to PyYAML).

Any other string value is handed to `dump` alone and used when PyYAML writes it on one
line (quoted: the text does not depend on its position; netlab's files often end lines
with a space, which makes PyYAML double-quote them).  Anything else (long or unusual
keys, floats, lists in lists, ...) declines the whole object.  The unit tests compare
both paths on hostile and random inputs and on the example labs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.skyforge.labs.plugins.module_utils.common.yaml_text import implicit_matcher

_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*\Z")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+=*\Z")
# Characters libyaml (and PyYAML's own emitter) write verbatim inside a literal block;
# compiled on first use (a non-ASCII text), as compiling it costs more than most renders.
_BLOCK_UNSAFE_PATTERN = "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]"
# libyaml writes a key longer than 128 characters as a complex key (`? key`).
_SIMPLE_KEY_MAX = 120
# Line breaks to YAML (a quoted scalar holding one is written over several lines).
_BREAKS = re.compile("[\r\n\x85\u2028\u2029]")
_STR_TAG = "tag:yaml.org,2002:str"


_IMPLICIT = {}    # Resolver class -> common.yaml_text.implicit_matcher of its resolvers


class _Fallback(Exception):
    pass


class _Emitter(object):
    def __init__(self, dump):
        from yaml import ScalarNode
        from yaml.resolver import Resolver
        self._resolve = Resolver().resolve
        self._node = ScalarNode
        if Resolver not in _IMPLICIT:
            _IMPLICIT[Resolver] = implicit_matcher(Resolver.yaml_implicit_resolvers)
        self._implicit = _IMPLICIT[Resolver]
        self._scalars = {}
        self._keys = {}
        self._dump = dump
        self.kept = False       # the last scalar written was a `|+` block
        self.open_kept = False  # the last block scalar written was a `|+` block
        self.out = []

    def scalar(self, value):
        """A one-line string as PyYAML writes it; _Fallback if not provably the same."""
        text = self._scalars.get(value)
        if text is None:
            if not (_PLAIN.match(value) or _BASE64.match(value)):
                raise _Fallback()
            plain = ((self._implicit is not None and not self._implicit.match(value))
                     or self._resolve(self._node, value, (True, False)) == _STR_TAG)
            text = value if plain else "'%s'" % value
            if not plain:
                if self.open_kept:
                    raise _Fallback()
                return text     # not cached: the inlined path must not skip this check
            self._scalars[value] = text
        return text

    def key(self, value):
        kind = type(value)     # exactly str: a subclass may represent itself otherwise
        if kind is not str or len(value) > _SIMPLE_KEY_MAX or not _PLAIN.match(value):
            raise _Fallback()
        text = self.scalar(value)
        if text == value:       # plain: cached (a quoted one is checked every time)
            self._keys[value] = text
        return text

    def block(self, value, indent):
        if value[0] in " \n" or value.endswith(" ") or " \n" in value:
            raise _Fallback()
        if value.isascii():    # str.isprintable is exactly 0x20-0x7e on ASCII, and fast
            if not value.replace("\n", "").isprintable():
                raise _Fallback()
        elif re.search(_BLOCK_UNSAFE_PATTERN, value):
            raise _Fallback()
        pad = " " * indent
        if not value.endswith("\n"):
            head, body = "|-\n", value
            self.kept = False
        else:
            body = value[:-1]
            self.kept = body.endswith("\n")
            if self.kept and self._dump is None:
                raise _Fallback()
            head = "|+\n" if self.kept else "|\n"
        self.open_kept = self.kept
        if "\n\n" in body or self.kept:   # empty lines carry no indentation
            lines = [pad + line if line else "" for line in body.split("\n")]
            return head + "\n".join(lines) + "\n"
        return head + pad + body.replace("\n", "\n" + pad) + "\n"

    def value(self, value, indent):
        """Text after `key:` (or `-`) for a scalar, with its line break; None for a
        non-empty mapping or list (written on the following lines)."""
        kind = type(value)
        self.kept = False
        if kind is str:
            try:
                if "\n" in value:
                    return " " + self.block(value, indent + 2)
                return " " + self.scalar(value) + "\n"
            except _Fallback:
                return " " + self.quoted(value)
        if kind is bool:
            return " true\n" if value else " false\n"
        if value is None:
            return " null\n"
        if kind is int:
            return " %d\n" % value
        if kind is dict or kind is list:
            return None if value else (" {}\n" if kind is dict else " []\n")
        raise _Fallback()

    def quoted(self, value):
        """The generic dumper's text for one string, when it is one line (a quoted
        scalar): that text does not depend on where the scalar sits in a block."""
        if self._dump is None or self.open_kept:    # how a quoted scalar ends `|+` is not known
            raise _Fallback()
        text = self._dump({"k": value})
        if not text.startswith("k: ") or not text.endswith("\n") or _BREAKS.search(text, 0, len(text) - 1):
            raise _Fallback()
        return text[3:]

    def mapping(self, mapping, indent, first_prefix=None):
        """A block mapping at `indent`; the first key follows `first_prefix` ("- ")."""
        pad = " " * indent
        out = self.out
        keys = self._keys
        scalars = self._scalars
        lead = pad if first_prefix is None else first_prefix
        for key in sorted(mapping):
            item = mapping[key]
            key_text = keys.get(key) or self.key(key)
            kind = type(item)
            if kind is str:     # the common case, inlined
                text = scalars.get(item)
                if text is not None:
                    out.append("%s%s: %s\n" % (lead, key_text, text))
                    self.kept = False
                    lead = pad
                    continue
            out.append(lead + key_text + ":")
            lead = pad
            text = self.value(item, indent)
            if text is not None:
                out.append(text)
            elif kind is dict:
                out.append("\n")
                self.mapping(item, indent + 2)
            else:
                out.append("\n")
                self.sequence(item, indent)

    def sequence(self, items, indent):
        """A block sequence under a mapping key: items at the key's own indentation."""
        prefix = " " * indent + "-"
        out = self.out
        for item in items:
            text = self.value(item, indent)
            if text is not None:
                out.append(prefix)
                out.append(text)
            elif type(item) is dict:  # pylint: disable=unidiomatic-typecheck
                self.mapping(item, indent + 2, first_prefix=prefix + " ")
            else:
                raise _Fallback()     # a list in a list: `- - x`, left to PyYAML


def emit(obj, dump=None):
    """dump(obj) for a non-empty mapping, or None when the generic dumper must write it.

    `dump` is that generic dumper (c9s.dump_yaml); given, one-line strings the fast path
    does not know (quoted scalars) are written by it alone, in place."""
    kind = type(obj)
    if kind is not dict or not obj:
        return None
    emitter = _Emitter(dump)
    try:
        emitter.mapping(obj, 0)
    except (_Fallback, TypeError):   # TypeError: keys that do not sort
        return None
    if emitter.kept:
        return None
    if emitter.open_kept and _ends_kept_documents(dump):
        emitter.out.append("...\n")
    return "".join(emitter.out)


_KEPT_ENDS = {}


def _ends_kept_documents(dump):
    """Whether `dump` closes a document that holds a `|+` block with `...`: libyaml does
    (its open-ended state lasts to the document's end), PyYAML's own emitter does not."""
    if dump not in _KEPT_ENDS:
        _KEPT_ENDS[dump] = dump({"a": "a\n\n", "b": "b"}).endswith("\n...\n")
    return _KEPT_ENDS[dump]
