# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read and check the multi-document YAML c9s_render writes, before anything is sent.

A rendered lab is its ConfigMaps, at most its credentials Secret (c9s.inventory), plus
exactly one Clabernetes Topology, each carrying
contract.lab_labels(<topology name>); the labels are how apply later finds what to prune
and what to delete.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os

from ansible_collections.skyforge.labs.plugins.module_utils.c9s.contract import (
    MANAGED_BY, MANAGED_BY_VALUE, LAB_LABEL, TOPOLOGY_GROUPS)
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.common.yaml_text import HAS_YAML, Loader as _Loader, StringLoader as _StringLoader, yaml

MAX_MANIFEST_BYTES = 512 * 1024 * 1024


class RenderedLab:
    """The parsed manifests: configmaps and secrets (lists, file order), topology, name, namespace."""

    def __init__(self, configmaps, topology, namespace, source, secrets=()):
        self.configmaps = configmaps
        self.secrets = list(secrets)
        self.topology = topology
        self.namespace = namespace
        self.source = source

    @property
    def name(self):
        return self.topology["metadata"]["name"]

    @property
    def api_version(self):
        return self.topology["apiVersion"]


def peek_topology(path):
    """The last document when it is a Topology (c9s_render writes it last), else None.

    Cheap (parses only that document), so the caller can start talking to the cluster while
    the full file is parsed; load_manifests still validates everything.
    """
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 4 * 1024 * 1024))
            tail = handle.read().decode("utf-8")
        doc = yaml.load(tail[tail.rfind("\n---") + 4:] if "\n---" in tail else tail, Loader=_Loader)
    except Exception:  # anything odd: load_manifests reports it properly
        return None
    if isinstance(doc, dict) and doc.get("kind") == "Topology" and isinstance(doc.get("metadata"), dict):
        return doc
    return None


def load_manifests(path, namespace=None, last=None):
    """Parse and validate the manifests file; namespace overrides metadata.namespace.

    last: what peek_topology returned for this file (saves parsing the Topology twice).
    """
    if not HAS_YAML:
        raise LabError("the Python package PyYAML is required")
    if not os.path.isfile(path):
        raise LabError("manifests file %s does not exist; give the file skyforge.labs.c9s_render "
                       "wrote (its dest)" % path)
    size = os.path.getsize(path)
    if size > MAX_MANIFEST_BYTES:
        raise LabError("manifests file %s is %d bytes, over the %d byte limit; is it the right file?"
                       % (path, size, MAX_MANIFEST_BYTES))
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LabError("manifests file %s is not UTF-8 (byte %d): re-render it with "
                       "skyforge.labs.c9s_render" % (path, exc.start))
    try:
        docs = _parse(text, last)
    except yaml.YAMLError as exc:
        raise LabError("manifests file %s is not valid YAML: %s" % (path, exc))
    return _check(docs, path, namespace)


def _parse(text, last=None):
    """All documents; ConfigMaps parsed as plain strings (a third faster for big labs).

    Every ConfigMap field is a string except `immutable`; the Topology (c9s_render writes
    it last) needs real booleans and numbers, so that one document is parsed typed.
    """
    docs = [d for d in yaml.load_all(text, Loader=_StringLoader) if d not in (None, "")]
    kinds = [d.get("kind") if isinstance(d, dict) else None for d in docs]
    if "Topology" not in kinds:
        return docs
    if last is None and kinds.index("Topology") == len(docs) - 1 and "\n---" in text:
        last = yaml.load(text[text.rfind("\n---") + 4:], Loader=_Loader)
    if not isinstance(last, dict) or last.get("kind") != "Topology" or last.get("metadata") != docs[-1].get("metadata"):
        return [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]
    docs[-1] = copy.deepcopy(last)
    for doc in docs[:-1]:
        if isinstance(doc, dict) and doc.get("immutable") in ("true", "false"):
            doc["immutable"] = doc["immutable"] == "true"
    return docs


def _check(docs, path, namespace_override):
    configmaps, secrets, topologies, namespaces = [], [], [], set()
    for index, doc in enumerate(docs, 1):
        where = "%s document %d" % (path, index)
        if not isinstance(doc, dict) or not isinstance(doc.get("metadata"), dict):
            raise LabError("%s is not a Kubernetes object (mapping with metadata)" % where)
        kind, api_version = doc.get("kind"), doc.get("apiVersion")
        name = doc["metadata"].get("name")
        if not name or not isinstance(name, str):
            raise LabError("%s (%s) has no metadata.name" % (where, kind))
        where = "%s (%s/%s)" % (where, kind, name)
        if kind == "ConfigMap" and api_version == "v1":
            configmaps.append(doc)
        elif kind == "Secret" and api_version == "v1":
            secrets.append(doc)
        elif kind == "Topology" and api_version in TOPOLOGY_GROUPS:
            topologies.append(doc)
        else:
            raise LabError("%s: unexpected %s %s; a lab is ConfigMaps (v1), its credentials Secret (v1) "
                           "and one Topology (%s)"
                           % (where, api_version, kind, " or ".join(sorted(TOPOLOGY_GROUPS))))
        if doc["metadata"].get("namespace"):
            namespaces.add(doc["metadata"]["namespace"])
        doc.pop("status", None)  # the controller owns status; never send it
    if len(topologies) != 1:
        raise LabError("%s holds %d Topology objects; a lab has exactly one" % (path, len(topologies)))
    if len(secrets) > 1:
        raise LabError("%s holds %d Secrets; a lab has at most one (its credentials)" % (path, len(secrets)))
    topology = topologies[0]
    lab = topology["metadata"]["name"]
    seen = set()
    for doc in configmaps + secrets + [topology]:
        ident = "%s/%s" % (doc["kind"], doc["metadata"]["name"])
        if ident in seen:
            raise LabError("%s contains %s twice; names must be unique" % (path, ident))
        seen.add(ident)
        labels = doc["metadata"].get("labels") or {}
        if labels.get(MANAGED_BY) != MANAGED_BY_VALUE or labels.get(LAB_LABEL) != lab:
            raise LabError(
                "%s: %s lacks the labels %s=%s and %s=%s that pruning and deletion rely on; "
                "render the lab with skyforge.labs.c9s_render" % (
                    path, ident, MANAGED_BY, MANAGED_BY_VALUE, LAB_LABEL, lab))
        if doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == lab:
            raise LabError("%s: ConfigMap %s has the Topology's name; Clabernetes owns that "
                           "ConfigMap, rename ours" % (path, lab))
    if namespace_override:
        namespace = namespace_override
    elif len(namespaces) == 1:
        namespace = namespaces.pop()
    elif namespaces:
        raise LabError("%s mixes namespaces %s; set the namespace option" % (path, ", ".join(sorted(namespaces))))
    else:
        raise LabError("%s sets no metadata.namespace; set the namespace option" % path)
    for doc in configmaps + secrets + [topology]:
        doc["metadata"]["namespace"] = namespace
    return RenderedLab(configmaps, topology, namespace, path, secrets)
