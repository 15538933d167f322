# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""topology.yml -> netlab create in workdir -> deterministic bundle: the module's logic."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import sys
import tempfile

from ansible_collections.skyforge.labs.plugins.module_utils.lab import clab
from ansible_collections.skyforge.labs.plugins.module_utils.lab.source import CLAB_FILE
from ansible_collections.skyforge.labs.plugins.module_utils.netlab import manifest as lab_manifest
from ansible_collections.skyforge.labs.plugins.module_utils.netlab import files as lab_files
from ansible_collections.skyforge.labs.plugins.module_utils.netlab import cli as netlab
from ansible_collections.skyforge.labs.plugins.module_utils.lab.bundle import bundle_bytes
from ansible_collections.skyforge.labs.plugins.module_utils.common.files import sha256_bytes
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.common.yaml_text import HAS_YAML, load as load_yaml
from ansible_collections.skyforge.labs.plugins.module_utils.netlab.workdir import (
    HOME, PREVIOUS, WorkdirRun, check_workdir)

# Defaults files netlab reads without being asked (user defaults under HOME are
# ignored: HOME is private).
IMPLICIT_DEFAULTS = ("topology-defaults.yml", "/etc/netlab/defaults.yml")


def _implicit_defaults(topology_dir):
    found = {}
    for name in IMPLICIT_DEFAULTS:
        path = os.path.join(topology_dir, name)
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                found[path] = handle.read()
    return found


def _version(executable):
    """Same venv as us: read package metadata (no extra process); otherwise ask the CLI."""
    if os.path.dirname(executable) == os.path.dirname(os.path.abspath(sys.executable)):
        try:
            from importlib.metadata import version
            return version("networklab")
        except Exception:  # pylint: disable=broad-except
            pass
    return netlab.netlab_version(executable)


def _lab_identity(run_dir):
    """(lab name, sorted node names) from clab.yml, or netlab's inventory for other providers."""
    clab_path = os.path.join(run_dir, CLAB_FILE)
    if os.path.isfile(clab_path):
        data = clab.load_clab(clab_path)
        return data, str(data.get("name", "")), sorted(clab.node_names(data))
    with open(os.path.join(run_dir, "group_vars", "all", "topology.json")) as handle:
        all_vars = json.load(handle)
    hosts = os.path.join(run_dir, "host_vars")
    nodes = sorted(os.listdir(hosts)) if os.path.isdir(hosts) else []
    return None, str(all_vars.get("netlab_name", "")), nodes


def _run(request, run_dir, home):
    """Seed referenced files, run netlab create in run_dir, settle references."""
    seeded = lab_files.seed(request["seed"], request["topology_dir"], run_dir)
    os.makedirs(home, exist_ok=True)
    result = netlab.run_netlab(request["argv"], run_dir, netlab.netlab_env(home, request["environment"]),
                               request["timeout"])
    if result.returncode != 0:
        raise LabError("netlab create failed (exit %d) for %s:\n%s"
                       % (result.returncode, request["topology"],
                          netlab.tail(result.stderr + "\n" + result.stdout)),
                       stdout=result.stdout, stderr=result.stderr, rc=result.returncode)
    clab_data, lab_name, nodes = _lab_identity(run_dir)
    warnings = []
    if clab_data is not None:
        warnings = lab_files.settle(clab_data, seeded, request["topology_dir"], run_dir,
                                    os.path.join(request["workdir"], CLAB_FILE))
    return result, lab_name, nodes, warnings


def _current_files(workdir):
    """The lab files in workdir now (the rollback copy if a run died half-way)."""
    previous = os.path.join(workdir, PREVIOUS)
    for directory in (previous, workdir):
        if os.path.isdir(directory):
            return lab_manifest.lab_files(directory)
    return {}


def _relocate(files, scratch, workdir):
    """Check mode ran in scratch: netlab wrote that path into its output; predict workdir's."""
    old, new = scratch.encode("utf-8"), workdir.encode("utf-8")
    return dict((path, (data.replace(old, new), mode)) for path, (data, mode) in files.items())


def _prepare(topology, workdir, bundle, provider, settings, plugins, defaults, environment, timeout):
    topology = os.path.abspath(topology)
    raw = netlab.check_topology(topology)
    environment = netlab.check_environment(environment)
    if not isinstance(timeout, int) or timeout <= 0:
        raise LabError("timeout must be a positive number of seconds, got %r" % (timeout,),
                       field="timeout")
    executable = netlab.find_netlab()
    argv = netlab.create_command(executable, topology, provider, settings, plugins, defaults)
    workdir = check_workdir(workdir, topology)
    bundle = os.path.abspath(bundle)
    if os.path.realpath(bundle).startswith(workdir + os.sep):
        raise LabError("bundle %s is inside workdir %s, which netlab_generate replaces on every "
                       "run; write the bundle elsewhere" % (bundle, workdir), path=bundle)
    defaults_bytes = []
    for path in defaults or []:
        with open(path, "rb") as handle:
            defaults_bytes.append(handle.read())
    topology_dir = os.path.dirname(topology)
    data = load_yaml(raw) if HAS_YAML else {}
    return {
        "topology": topology, "topology_dir": topology_dir, "workdir": workdir,
        "bundle": bundle, "provider": provider, "argv": argv, "executable": executable,
        "environment": environment, "timeout": timeout,
        "seed": lab_files.seed_candidates(data, topology_dir),
        "digest": lab_manifest.inputs_digest(raw, provider, settings, plugins, defaults_bytes,
                                             environment, _implicit_defaults(topology_dir)),
    }


def generate(topology, workdir, bundle, provider="clab", settings=None, plugins=None,
             defaults=None, environment=None, timeout=600, check_mode=False):
    """Run netlab create for topology in workdir and write the bundle; return the result dict.

    Check mode runs netlab in a scratch directory and touches neither workdir nor bundle.
    """
    request = _prepare(topology, workdir, bundle, provider, settings, plugins, defaults,
                       environment, timeout)
    workdir = request["workdir"]
    version = _version(request["executable"])
    if check_mode:
        before = _current_files(workdir)
        scratch = tempfile.mkdtemp(prefix="netlab_generate-")
        try:
            run_dir = os.path.join(scratch, "lab")
            os.makedirs(run_dir)
            result, lab_name, nodes, warnings = _run(request, run_dir, os.path.join(run_dir, HOME))
            files = _relocate(lab_manifest.lab_files(run_dir), run_dir, workdir)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        manifest, data = _bundle_bytes(files, lab_name, nodes, version, request)
        bundle_changed, digest = lab_manifest.write_if_changed(request["bundle"], data, check_mode=True)
    else:
        run = WorkdirRun(workdir)
        run.begin()
        try:
            before = lab_manifest.lab_files(run.previous)
            result, lab_name, nodes, warnings = _run(request, workdir, run.home)
            files = lab_manifest.lab_files(workdir)
            manifest, data = _bundle_bytes(files, lab_name, nodes, version, request)
            bundle_changed, digest = lab_manifest.write_if_changed(request["bundle"], data)
        except BaseException:
            run.rollback()
            raise
        run.commit()
    warnings += ["%s from the calling environment was not passed to netlab; set it in "
                 "`environment` if the lab needs it" % key
                 for key in sorted(os.environ) if key.startswith("NETLAB_")]
    return {
        "changed": bundle_changed or files != before,
        "diff": file_diff(before, files),
        "bundle_changed": bundle_changed,
        "workdir_changed": files != before,
        "lab_name": lab_name,
        "nodes": nodes,
        "clab_file": os.path.join(workdir, CLAB_FILE) if provider == "clab" else None,
        "workdir": workdir,
        "bundle": request["bundle"],
        "bundle_sha256": digest,
        "manifest": manifest,
        "warnings": warnings,
        "netlab_version": version,
        "command": request["argv"][1:],
        "stdout": netlab.tail(result.stdout),
        "stderr": netlab.tail(result.stderr),
    }


def _listing(files, paths):
    return "".join("%s %04o %s\n" % (path, files[path][1], sha256_bytes(files[path][0]))
                   for path in paths)


def file_diff(before, after):
    """Ansible diff of the lab files: one `path mode sha256` line per added/removed/changed file."""
    changed = sorted(path for path in set(before) | set(after) if before.get(path) != after.get(path))
    return {
        "before_header": "workdir (before)",
        "after_header": "workdir (after)",
        "before": _listing(before, [path for path in changed if path in before]),
        "after": _listing(after, [path for path in changed if path in after]),
    }


def _bundle_bytes(files, lab_name, nodes, version, request):
    files = lab_manifest.portable_files(files, request["workdir"], os.path.join(request["workdir"], HOME))
    manifest = lab_manifest.build_manifest(files, lab_name, nodes, version, request["provider"],
                                           request["digest"])
    return manifest, bundle_bytes(lab_manifest.bundle_files(files, manifest))
