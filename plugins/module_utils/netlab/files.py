# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bring the files a lab references from the topology's directory into netlab's output.

netlab assumes it runs in the topology's directory: it checks `clab.binds` sources
relative to its working directory and writes `startup-config`/`license` paths into
clab.yml as written. netlab_generate runs it in `workdir`, so before the run every
relative path the topology mentions that names a file next to the topology is copied
in (netlab's bind check then passes), and after the run clab.yml decides: referenced
copies stay, unreferenced ones go, anything still missing is an error naming the node.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import posixpath
import shutil

from ansible_collections.skyforge.labs.plugins.module_utils.lab import clab
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError

# netlab deletes and recreates this directory, so nothing seeded there survives the run.
NETLAB_OWNED = ("node_files",)


def _strings(data):
    """Every string in a YAML tree, dictionary keys included (dict-form binds key the source)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(key, str):
                    yield key
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            yield item


def seed_candidates(topology_data, topology_dir):
    """Relative paths mentioned in the topology that exist next to it, sorted.

    A superset of what the lab needs (any string that happens to name a file counts);
    `settle` removes the ones clab.yml does not reference.
    """
    found = set()
    for text in _strings(topology_data):
        if "\n" in text or "://" in text or len(text) > 4096:
            continue
        for candidate in (text, text.split(":", 1)[0]):
            rel = clab.lab_relpath(candidate)
            if not rel or rel.split("/", 1)[0] in NETLAB_OWNED:
                continue
            if os.path.lexists(os.path.join(topology_dir, rel)):
                found.add(rel)
    return sorted(found)


def _copy(source, target):
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    if os.path.isdir(source):
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)


def _fingerprint(path):
    info = os.stat(path)
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def seed(candidates, topology_dir, run_dir):
    """Copy candidates into run_dir (never over a file already there); return fingerprints."""
    seeded = {}
    for rel in candidates:
        target = os.path.join(run_dir, rel)
        if os.path.lexists(target):
            continue
        _copy(os.path.join(topology_dir, rel), target)
        seeded[rel] = _fingerprint(target)
    return seeded


def _remove(run_dir, rel):
    target = os.path.join(run_dir, rel)
    if os.path.isdir(target) and not os.path.islink(target):
        shutil.rmtree(target)
    elif os.path.lexists(target):
        os.unlink(target)
    parent = posixpath.dirname(rel)
    while parent:
        path = os.path.join(run_dir, parent)
        if os.path.isdir(path) and not os.listdir(path):
            os.rmdir(path)
        parent = posixpath.dirname(parent)


def _covered(rel, referenced):
    return any(rel == ref or rel.startswith(ref + "/") or ref.startswith(rel + "/") for ref in referenced)


def settle(clab_data, seeded, topology_dir, run_dir, clab_file="clab.yml"):
    """Make run_dir hold every relative file clab.yml references; return warnings.

    Raises LabError for references that climb out of the lab directory or exist neither
    in run_dir nor next to the topology.
    """
    warnings = []
    missing = []
    escaping = []
    referenced = set()
    for node, refs in sorted(clab.all_node_files(clab_data).items()):
        for ref in refs:
            source = ref.source
            if clab.is_runtime_path(source):
                continue
            what = "node %s %s %s" % (node, ref.role, source)
            if source.startswith(("/", "~")):
                warnings.append("%s is a host path outside the lab: it is not bundled and must "
                                "exist on every host that runs the lab" % what)
                continue
            rel = ref.lab_path
            if rel is None:
                escaping.append(what)
                continue
            referenced.add(rel)
            if os.path.lexists(os.path.join(run_dir, rel)):
                continue
            if os.path.lexists(os.path.join(topology_dir, rel)):
                _copy(os.path.join(topology_dir, rel), os.path.join(run_dir, rel))
                continue
            missing.append("%s (looked for %s and %s)" % (
                what, os.path.join(run_dir, rel), os.path.join(topology_dir, rel)))
    for rel, fingerprint in sorted(seeded.items()):
        target = os.path.join(run_dir, rel)
        if _covered(rel, referenced) or not os.path.lexists(target):
            continue
        if _fingerprint(target) == fingerprint:     # netlab did not rewrite it: ours, unused
            _remove(run_dir, rel)
    if escaping:
        raise LabError("%s references files outside the topology directory %s, which the bundle "
                       "cannot carry: %s; move them under %s (relative paths resolve against "
                       "it) or use absolute host paths"
                       % (clab_file, topology_dir, "; ".join(escaping), topology_dir))
    if missing:
        raise LabError("%s references files that do not exist: %s; create them next to the "
                       "topology (relative paths resolve against %s) or fix the reference "
                       "in the topology" % (clab_file, "; ".join(missing), topology_dir))
    return warnings
