# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a render: one multi-document YAML, the ConfigMaps sorted by name, the inventory
ConfigMap and credentials Secret (c9s.inventory), then the Topology.

Memory: the lab's files stay as lab.source holds them (a bundle compressed), the clab.yml
is parsed whole, and each ConfigMap is built, written out and dropped on its own; the
README gives the measured peak.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import gc
import os
import tempfile

from ansible_collections.skyforge.labs.plugins.module_utils.c9s import pack, yaml_emit
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.plan import plan_render
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.common.files import AtomicFile, sha256_file
from ansible_collections.skyforge.labs.plugins.module_utils.common.yaml_text import dump_yaml
from ansible_collections.skyforge.labs.plugins.module_utils.lab.source import CLAB_FILE, YAML_SUFFIXES, open_lab


def configmap_objects(lab, plan):
    """Yield (ConfigMap object, its pack.serialized_size) one at a time, contents read back
    from the lab."""
    for cm_name, members in plan.configmaps:
        entries = [(blob, lab.read(plan.sources[blob.sha256])) for blob in members]
        obj = pack.build(cm_name, plan.namespace, plan.cm_labels, entries)
        yield obj, pack.built_size(obj, members)


def write_manifests(lab, plan, handle):
    """Stream the multi-document YAML to a binary handle; return per-ConfigMap summaries."""
    summary = []
    for obj, size in configmap_objects(lab, plan):
        summary.append({"name": obj["metadata"]["name"], "bytes": size,
                        "keys": len(obj.get("data", {})) + len(obj.get("binaryData", {}))})
        handle.write(b"---\n")
        handle.write((yaml_emit.emit(obj, dump_yaml) or dump_yaml(obj)).encode("utf-8"))
        del obj
    for obj in plan.inventory:
        handle.write(b"---\n")
        handle.write((yaml_emit.emit(obj, dump_yaml) or dump_yaml(obj)).encode("utf-8"))
    handle.write(b"---\n")
    for chunk in topology_yaml_chunks(plan.topology):
        handle.write(chunk.encode("utf-8"))
    return summary


_MOUNTS_LINE = "\n    filesFromConfigMap: {}\n"
_NODES_PER_CHUNK = 64


def topology_yaml_chunks(topology):
    """dump_yaml(topology), produced piecewise: the YAML representer needs ~10x the size of
    the mounts table in memory, so the table is dumped a few nodes at a time and indented
    under its key (the same text a whole-object dump gives, see the unit tests).  The
    purpose-written emitter comes first; this is its fallback."""
    text = yaml_emit.emit(topology, dump_yaml)
    if text is not None:
        yield text
        return
    mounts = (topology["spec"].get("deployment") or {}).get("filesFromConfigMap")
    if not mounts:
        yield dump_yaml(topology)
        return
    skeleton = dict(topology, spec=dict(topology["spec"], deployment=dict(
        topology["spec"]["deployment"], filesFromConfigMap={})))
    head, sep, tail = dump_yaml(skeleton).partition(_MOUNTS_LINE)
    if not sep or _MOUNTS_LINE in tail:
        yield dump_yaml(topology)
        return
    yield head + "\n    filesFromConfigMap:\n"
    nodes = sorted(mounts)
    for start in range(0, len(nodes), _NODES_PER_CHUNK):
        part = dict((node, mounts[node]) for node in nodes[start:start + _NODES_PER_CHUNK])
        yield "".join("      " + line for line in dump_yaml(part).splitlines(True))
    yield tail


@contextlib.contextmanager
def no_cyclic_gc():
    """The cyclic garbage collector off while rendering: a render allocates ~10^5 objects
    and makes no reference cycles worth collecting, and in Ansible's worker (a fork of
    ansible-playbook) each collection also walks the whole inherited heap: 30 % of a
    1,000-node render's time there (README)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def render_to(lab, plan, dest, check_mode=False):
    """Write the manifests to dest (common.files guarantee), only when the bytes differ.

    Returns (changed, sha256, size, summary, preview_or_None): in check mode dest is not
    touched and the new text is left in a temporary file for a diff (caller removes it)."""
    if check_mode:
        fd, preview = tempfile.mkstemp(prefix="skyforge-render-check-")
        os.close(fd)
        target = preview
    else:
        preview, target = None, dest
    try:
        with AtomicFile(target) as out:
            summary = write_manifests(lab, plan, out)
            sha = out.hexdigest()
            changed = not (os.path.isfile(dest) and sha256_file(dest) == sha)
            if not changed and not check_mode:
                out.discard()
    except BaseException:
        if preview is not None:
            os.unlink(preview)
        raise
    return changed, sha, out.size, summary, preview


DIFF_TEXT_MAX = 256 * 1024


def _read_text(path):
    """The file's text, "" when absent, None when too large to show in a diff."""
    if not path or not os.path.isfile(path):
        return ""
    if os.path.getsize(path) > DIFF_TEXT_MAX:
        return None
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8", "replace")


def _diff(dest, before, after, result):
    if before is None or after is None:
        before = "(previous manifests not shown)\n" if before is None else before[:DIFF_TEXT_MAX]
        after = "%d ConfigMaps (%s), Topology %s, sha256 %s\n" % (
            len(result["configmaps"]), ", ".join(cm["name"] for cm in result["configmaps"][:20]),
            result["topology"]["name"], result["manifest_sha256"])
    return {"before_header": dest, "after_header": dest, "before": before, "after": after}


def render(src, dest, namespace, check_mode=False, diff=False, return_details=False, **options):
    """open_lab + plan_render + render_to: the c9s_render module's result.

    diff: add an Ansible diff of dest (the text when small enough, else a summary).
    return_details: add the per-node tables (`mounts`, `files_from_url`); they grow with
    the lab (4,000 entries for 1,000 nodes of 4 files) and Ansible copies a task's result
    several times, so they are left out unless asked for; `counts` sums them up."""
    if src.endswith(YAML_SUFFIXES) and os.path.isfile(src):
        raise LabError("src %s is a YAML file: give the directory holding it (the netlab workdir "
                       "with %s) or the lab bundle (.tar.gz)" % (src, CLAB_FILE), path=src)
    before = _read_text(dest) if diff else None
    with no_cyclic_gc(), open_lab(src) as lab:
        plan = plan_render(lab, namespace, **options)
        changed, sha, size, summary, preview = render_to(lab, plan, dest, check_mode=check_mode)
    result = {
        "changed": changed,
        "dest": dest,
        "manifest_sha256": sha,
        "manifest_bytes": size,
        "topology": {"name": plan.topology["metadata"]["name"], "namespace": namespace,
                     "api_version": plan.topology["apiVersion"]},
        "configmaps": summary,
        "counts": {"nodes": plan.nodes, "configmaps": len(summary),
                   "configmap_bytes": sum(cm["bytes"] for cm in summary),
                   "mounts": sum(len(entries) for entries in plan.mounts.values()),
                   "files_from_url": sum(len(entries) for entries in plan.url_files.values())},
        "inventory": [{"kind": obj["kind"], "name": obj["metadata"]["name"]} for obj in plan.inventory],
        "large_files": plan.large_files,
        "renamed_nodes": plan.renamed,
        "warnings": plan.warnings,
    }
    if return_details:
        result["mounts"] = plan.mounts
        result["files_from_url"] = plan.url_files
    try:
        if diff and changed:
            result["diff"] = _diff(dest, before, _read_text(preview or dest), result)
    finally:
        if preview is not None:
            os.unlink(preview)
    return result
