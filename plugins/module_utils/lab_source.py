# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a lab is made of, read from a clab.yml or a bundle: nodes, kinds, images, features.

Kinds and images merge like containerlab does (defaults -> kinds -> groups -> node, most
specific wins). Features come from netlab's per-node variables when they are there:
`host_vars/<node>/topology.json` (or `topology.yml`) beside the clab.yml or in the bundle,
its `module` list (ospf, lag, mpls, vxlan, vrf ...). A bare clab.yml has no features.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import posixpath

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.clab import (
    load_clab, node_levels, node_names, parse_clab,
)

BUNDLE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
NODE_VARS = ("topology.json", "topology.yml")


class LabNode(object):
    __slots__ = ("name", "kind", "image", "modules")

    def __init__(self, name, kind, image, modules):
        self.name = name
        self.kind = kind
        self.image = image
        self.modules = modules


def is_bundle(path):
    return path.endswith(BUNDLE_SUFFIXES)


def _parse_vars(data, origin):
    try:
        if origin.endswith(".json"):
            return json.loads(data.decode("utf-8"))
        from ansible_collections.skyforge.labs.plugins.module_utils.clab import yaml, _Loader
        return yaml.load(data, Loader=_Loader)  # nosec B506 - a SafeLoader
    except Exception as exc:
        raise LabError("cannot parse netlab node variables %s (%s): regenerate the lab with netlab"
                       % (origin, exc))


def _clab_member(files, path):
    candidates = sorted((name for name in files if posixpath.basename(name) == "clab.yml"),
                        key=lambda name: (name.count("/"), name))
    if not candidates:
        raise LabError("bundle %s has no clab.yml: build it with netlab_generate (provider clab)" % path)
    return candidates[0]


def _read_files_from_dir(directory, relpaths):
    out = {}
    for rel in relpaths:
        full = os.path.join(directory, *rel.split("/"))
        if os.path.isfile(full):
            with open(full, "rb") as handle:
                out[rel] = handle.read()
    return out


def load_lab(path):
    """[LabNode] for every node of the clab.yml or bundle at `path`, in file order."""
    if not path:
        raise LabError("no topology given: pass the path of a clab.yml or a lab bundle")
    if is_bundle(path):
        from ansible_collections.skyforge.labs.plugins.module_utils.bundle import read_bundle
        files = dict((name, content) for name, (content, _mode) in read_bundle(path).items())
        member = _clab_member(files, path)
        clab = parse_clab(files[member], "%s:%s" % (path, member))
        base = posixpath.dirname(member)
        origin = path + ":"
    else:
        if os.path.isdir(path):
            path = os.path.join(path, "clab.yml")
        clab = load_clab(path)
        base = ""
        files = None
        origin = ""
    nodes = []
    for name in node_names(clab):
        kind = image = None
        for _level, settings in node_levels(clab, name):
            kind = settings.get("kind") or kind
            image = settings.get("image") or image
        var_paths = [posixpath.join(base, "host_vars", name, leaf) for leaf in NODE_VARS]
        found = (dict((p, files[p]) for p in var_paths if p in files) if files is not None
                 else _read_files_from_dir(os.path.dirname(os.path.abspath(path)), var_paths))
        modules = []
        for rel in var_paths:
            if rel in found:
                data = _parse_vars(found[rel], origin + rel) or {}
                listed = data.get("module") if isinstance(data, dict) else None
                modules = sorted(str(m) for m in listed) if isinstance(listed, list) else []
                break
        nodes.append(LabNode(name, kind, image, modules))
    return nodes
