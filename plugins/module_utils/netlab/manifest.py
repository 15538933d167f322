# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The file set, manifest.json and bundle of a netlab-generated lab.

Everything in the workdir goes in except what is not reproducible or not part of the
lab: netlab.snapshot.pickle (different bytes on every run), lock files and
netlab_generate's own state directory (private HOME, rollback copy).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from ansible_collections.skyforge.labs.plugins.module_utils.lab import bundle as _bundle
from ansible_collections.skyforge.labs.plugins.module_utils.common.files import (
    atomic_write, sha256_bytes, sha256_file)
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.netlab.workdir import STATE_DIR

SCHEMA = "skyforge.labs/bundle/v1"
EXCLUDE = (
    "netlab.snapshot.pickle",   # pickled transformed topology: differs on every run
    "netlab.lock",              # present only while a lab runs from this directory
    "*.lock",
    "*/*.lock",
    STATE_DIR,                  # private HOME and rollback copy of netlab_generate
)


def canonical_json(data):
    """Sorted keys, fixed separators, UTF-8, trailing newline: same data, same bytes."""
    return (json.dumps(data, sort_keys=True, separators=(",", ": "), indent=2,
                       ensure_ascii=False) + "\n").encode("utf-8")


def inputs_digest(topology_bytes, provider, settings, plugins, defaults_bytes, environment,
                  implicit_defaults=None):
    """sha256 over everything the caller passes to netlab, in canonical form.

    implicit_defaults: {path: bytes} of defaults files netlab reads on its own
    (topology-defaults.yml next to the topology, /etc/netlab/defaults.yml).
    """
    document = {
        "implicit_defaults_sha256": dict(
            (path, sha256_bytes(data)) for path, data in (implicit_defaults or {}).items()),
        "topology_sha256": sha256_bytes(topology_bytes),
        "provider": provider,
        "settings": settings or {},
        "plugins": list(plugins or []),
        "defaults_sha256": [sha256_bytes(data) for data in defaults_bytes],
        "environment": environment or {},
    }
    return sha256_bytes(canonical_json(document))


def lab_files(workdir):
    """{relpath: (bytes, mode)} of the lab in workdir, without the non-reproducible files."""
    return _bundle.collect_tree(workdir, exclude=EXCLUDE)


def portable_files(files, workdir, home):
    """The lab files as they go into the bundle: netlab writes its absolute working
    directory and the (private) HOME it ran with into its output (group_vars/all/topology.json
    search paths). Inside the bundle HOME becomes `~` and the workdir `.`, the forms netlab
    itself starts from (it runs in the lab directory and expands `~`), so the bundle depends
    on the inputs only, not on where the lab was generated."""
    rules = []
    for prefix, stable in sorted(((home, b"~"), (workdir, b".")), key=lambda item: -len(item[0])):
        raw = os.path.abspath(prefix).encode("utf-8")
        # the whole path only: /a/lab must not rewrite /a/lab2
        rules.append((re.compile(re.escape(raw) + rb"(?![A-Za-z0-9_.+-])"), stable))
    out = {}
    for path, (data, mode) in files.items():
        for pattern, stable in rules:
            data = pattern.sub(stable, data)
        out[path] = (data, mode)
    return out


def build_manifest(files, lab_name, nodes, netlab_version, provider, digest):
    return {
        "schema": SCHEMA,
        "lab_name": lab_name,
        "nodes": sorted(nodes),
        "netlab_version": netlab_version,
        "provider": provider,
        "inputs_sha256": digest,
        "excluded": sorted(EXCLUDE),
        "files": [
            {"path": path, "size": len(files[path][0]), "mode": "%04o" % files[path][1],
             "sha256": sha256_bytes(files[path][0])}
            for path in sorted(files)
        ],
    }


def bundle_files(files, manifest):
    """The files to archive: the lab plus manifest.json at the root."""
    if _bundle.BUNDLE_MANIFEST in files:
        raise LabError("the lab directory contains a file named %s at its root, which would clash "
                       "with the bundle manifest; rename that file in the topology"
                       % _bundle.BUNDLE_MANIFEST)
    out = dict(files)
    out[_bundle.BUNDLE_MANIFEST] = (canonical_json(manifest), 0o644)
    return out


def existing_sha256(path):
    return sha256_file(path) if os.path.isfile(path) else None


def write_if_changed(path, data, check_mode=False):
    """Write the bundle bytes unless the file already holds them; return (changed, sha256)."""
    digest = sha256_bytes(data)
    if existing_sha256(path) == digest:
        return False, digest
    if not check_mode:
        atomic_write(path, data)
    return True, digest
