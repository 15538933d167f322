# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a containerlab topology and work out which host files each node uses.

containerlab merges `defaults` -> `kinds` -> `groups` -> node; for binds the most
specific level wins per container path, for `startup-config` and `license` the most
specific level that sets the key wins.  Relative host paths resolve against the
directory of the topology file; `__clabNodeName__`, `__clabNodeDir__` and
`__clabDir__` are placeholders containerlab expands at deploy time.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import re

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError

from ansible_collections.skyforge.labs.plugins.module_utils.common.yaml_text import HAS_YAML, YAMLError, load as load_yaml

NODE_NAME = "__clabNodeName__"
NODE_DIR = "__clabNodeDir__"
LAB_DIR = "__clabDir__"
# Paths under these placeholders live in containerlab's runtime directory
# (clab-<lab>/...), created at deploy time; they are not files a lab ships.
RUNTIME_PLACEHOLDERS = (NODE_DIR, LAB_DIR)

FILE_KEYS = ("startup-config", "license")
# a relative path of non-empty components, none of them "." or "..": posixpath.normpath's fixed points
_NORMAL = re.compile(r"(?:(?!\.\.?/)[^/]+/)*(?!\.\.?\Z)[^/]+\Z")
LEVELS = ("defaults", "kinds", "groups", "nodes")


class FileRef(object):
    """One host file a node uses.

    role: "bind", "startup-config" or "license".
    source: the host path as written, placeholders for the node expanded.
    target: the container path for a bind, None for startup-config/license.
    level: where it was set: "defaults", "kinds", "groups" or "nodes".
    read_only: the bind carried `:ro`.
    """

    __slots__ = ("node", "kind", "role", "source", "target", "level", "read_only")

    def __init__(self, node, kind, role, source, target=None, level="nodes", read_only=False):
        self.node = node
        self.kind = kind
        self.role = role
        self.source = source
        self.target = target
        self.level = level
        self.read_only = read_only

    @property
    def lab_path(self):
        """The normalised posix path inside the lab directory, or None if outside it."""
        return lab_relpath(self.source)

    def as_dict(self):
        return dict((k, getattr(self, k)) for k in self.__slots__)

    def __repr__(self):
        return "FileRef(%r)" % (self.as_dict(),)


def load_clab(path):
    """Parse a containerlab topology file; LabError if missing, invalid or not a topology."""
    if not HAS_YAML:
        raise LabError("PyYAML is required to read %s: install it with 'pip install PyYAML'" % path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except (IOError, OSError) as exc:
        raise LabError(
            "cannot read the containerlab topology %s: %s; check that the path names a clab.yml file"
            % (path, exc.strerror or exc), path=path)
    return parse_clab(raw, path)


def parse_clab(raw, origin="clab.yml"):
    """Parse containerlab YAML text (bytes or str) already in memory."""
    if not HAS_YAML:
        raise LabError("PyYAML is required to read %s: install it with 'pip install PyYAML'" % origin)
    try:
        data = load_yaml(raw)
    except YAMLError as exc:
        raise LabError("%s is not valid YAML: %s; fix the file (or regenerate it with netlab)"
                       % (origin, exc), path=origin)
    if not isinstance(data, dict) or not isinstance(data.get("topology"), dict):
        if isinstance(data, dict) and "nodes" in data:
            raise LabError("%s is a netlab topology, not the containerlab one: generate the lab first "
                           "(netlab_generate, or playbooks/lab_render.yml) and point at the clab.yml "
                           "or the bundle it writes" % origin, path=origin)
        raise LabError("%s has no 'topology' mapping, so it is not a containerlab topology; "
                       "point at the clab.yml netlab wrote" % origin, path=origin)
    topo = data["topology"]
    for level in LEVELS:
        value = topo.get(level)
        if value is not None and not isinstance(value, dict):
            raise LabError("%s: topology.%s must be a mapping, got %s"
                           % (origin, level, type(value).__name__), path=origin, field=level)
    for name, node in (topo.get("nodes") or {}).items():
        if node is not None and not isinstance(node, dict):
            raise LabError("%s: node %s must be a mapping, got %s"
                           % (origin, name, type(node).__name__), path=origin, node=str(name))
    return data


def node_names(clab):
    """Node names as strings, in file order."""
    return [str(name) for name in (clab["topology"].get("nodes") or {})]


def _section(topo, level, key):
    value = (topo.get(level) or {}).get(key)
    return value if isinstance(value, dict) else {}


def node_levels(clab, name):
    """[(level, settings)] from least to most specific for node `name`."""
    topo = clab["topology"]
    nodes = topo.get("nodes") or {}
    node = nodes.get(name)
    if node is None:
        for key, value in nodes.items():
            if str(key) == name:
                node = value
                break
    node = node or {}
    defaults = topo.get("defaults") or {}
    group = _section(topo, "groups", node.get("group")) if node.get("group") else {}
    kind = node.get("kind") or group.get("kind") or defaults.get("kind")
    levels = [("defaults", defaults)]
    if kind:
        levels.append(("kinds", _section(topo, "kinds", kind)))
    if group:
        levels.append(("groups", group))
    levels.append(("nodes", node))
    return levels


def node_kind(clab, name):
    return _kind(node_levels(clab, name))


def _kind(levels):
    kind = None
    for _level, settings in levels:
        kind = settings.get("kind") or kind
    return kind


def expand_node_name(value, node):
    """Expand `__clabNodeName__`; runtime-directory placeholders stay as written."""
    return value.replace(NODE_NAME, node)


def split_bind(bind, where):
    """`host:container[:opts]` -> (host, container, options); host None for a bare volume."""
    if not isinstance(bind, str) or not bind:
        raise LabError("%s: a bind must be a 'host:container[:options]' string, got %r"
                       % (where, bind), field="binds")
    parts = bind.split(":")
    if len(parts) == 1:
        return None, parts[0], ""
    if len(parts) > 3 or not parts[0] or not parts[1]:
        raise LabError("%s: bind %r is not 'host:container[:options]'" % (where, bind), field="binds")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else ""


def is_url(value):
    return "://" in value


def is_inline(value):
    return "\n" in value


def is_runtime_path(value):
    return "__clab" in value and any(marker in value for marker in RUNTIME_PLACEHOLDERS)


def lab_relpath(source):
    """Normalised posix path of `source` inside the lab directory, or None when it is
    absolute, under `~`, a containerlab runtime path or climbs out with `..`."""
    if not source or source.startswith(("/", "~")) or is_runtime_path(source):
        return None
    if _NORMAL.match(source):     # already what normpath returns (most paths): skip the call
        return source
    normal = posixpath.normpath(source)
    if normal == ".." or normal.startswith("../") or normal == ".":
        return None
    return normal


def node_files(clab, name):
    """Every host file node `name` uses after merging defaults -> kinds -> groups -> node.

    Binds: one per container path, the most specific level wins (list order within a
    level, last wins, as containerlab's map merge does).  startup-config / license: the
    most specific level that sets them, only when the value is a path (inline text with
    a newline travels inside the definition; URLs are fetched by containerlab).
    """
    levels = node_levels(clab, name)
    kind = _kind(levels)
    binds = {}
    order = []
    for level, settings in levels:
        for bind in settings.get("binds") or []:
            where = "node %s (%s level)" % (name, level)
            host, target, options = split_bind(bind, where)
            if host is None:
                continue
            if target not in binds:
                order.append(target)
            read_only = "ro" in options.split(",")
            binds[target] = FileRef(name, kind, "bind", expand_node_name(host, name),
                                    target, level, read_only)
    refs = [binds[target] for target in order]
    for key in FILE_KEYS:
        found = None
        for level, settings in levels:
            value = settings.get(key)
            if value:
                found = (level, value)
        if found is None:
            continue
        level, value = found
        if not isinstance(value, str):
            raise LabError("node %s: %s (%s level) must be a string, got %s"
                           % (name, key, level, type(value).__name__), node=name, field=key)
        if is_inline(value) or is_url(value):
            continue
        refs.append(FileRef(name, kind, key, expand_node_name(value, name), None, level, True))
    return refs


def all_node_files(clab):
    """{node: [FileRef]} for every node, in file order."""
    return dict((name, node_files(clab, name)) for name in node_names(clab))
