# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Work out every object of a lab's render (ConfigMaps and the Topology); no file is written.

Clabernetes runs containerlab in each launcher pod with the working directory
/clabernetes and mounts every `filesFromConfigMap` entry at `/clabernetes/<filePath>`
(subPath mount).  So a lab-relative bind source or startup-config path, given as the
filePath, appears exactly where containerlab resolves it and the definition needs no
path rewriting.  Inline startup-configs travel inside the definition.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.skyforge.labs.plugins.module_utils.c9s import advice, inventory, pack
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.contract import (
    API_VERSIONS, COMPONENT_LABEL, NAMING, lab_labels)
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.pitfalls import (
    runtime_paths_warning, short_list, warn_definition, warn_nodes)
from ansible_collections.skyforge.labs.plugins.module_utils.common import names
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.common.yaml_text import dump_yaml
from ansible_collections.skyforge.labs.plugins.module_utils.lab import clab as clab_utils
from ansible_collections.skyforge.labs.plugins.module_utils.lab.source import read_clab

DEFAULT_MAX_CONFIGMAP_BYTES = 900000
DEFAULT_STATUS_PROBES = {"enabled": False}
# Custom resources live in etcd as JSON; its default request limit is 1.5 MiB, and the
# controller adds a status of comparable size, so warn well before the hard stop.
TOPOLOGY_WARN_BYTES = 1048576
TOPOLOGY_MAX_BYTES = 1572864 - 65536

# What a launcher pod already has in its working directory /clabernetes.
LAUNCHER_FILES = frozenset(("topo.clab.yaml", "tunnels.yaml", "files-from-url.yaml",
                            "configured-pull-secrets.yaml", "manager"))

_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


def check_labels(labels, reserved):
    """The user's labels as strings, checked; none may override a reserved one."""
    labels = labels or {}
    if not isinstance(labels, dict):
        raise LabError("labels must be a mapping of label names to values", field="labels")
    clean = {}
    for key, value in labels.items():
        key = str(key)
        value = "" if value is None else str(value)
        prefix, _sep, name = key.rpartition("/")
        if not _LABEL_NAME.match(name) or (prefix and not names.is_subdomain(prefix)):
            raise LabError("label name %r is not a valid Kubernetes label name ([prefix/]name, "
                           "name up to 63 of [-A-Za-z0-9_.])" % key, field="labels")
        if not _LABEL_VALUE.match(value):
            raise LabError("label %s has value %r, not a valid Kubernetes label value (up to 63 "
                           "of [-A-Za-z0-9_.], starting and ending alphanumeric)" % (key, value),
                           field="labels")
        if key in reserved and reserved[key] != value:
            raise LabError("label %s is set by skyforge.labs to %r (it drives pruning); remove "
                           "it from labels" % (key, reserved[key]), field="labels")
        clean[key] = value
    return clean


def _check_options(namespace, api_version, naming, max_configmap_bytes, status_probes, expose):
    if api_version not in API_VERSIONS:
        raise LabError("api_version %r is not one of %s" % (api_version, ", ".join(API_VERSIONS)),
                       field="api_version")
    if naming not in NAMING:
        raise LabError("naming %r is not one of %s" % (naming, ", ".join(NAMING)), field="naming")
    if not names.is_dns_label(namespace):
        raise LabError("namespace %r is not a valid Kubernetes namespace name (RFC 1123 label); "
                       "use e.g. %r" % (namespace, names.to_label(namespace or "lab")), field="namespace")
    pack.check_budget(max_configmap_bytes)
    for field, value in (("status_probes", status_probes), ("expose", expose)):
        if value is not None and not isinstance(value, dict):
            raise LabError("%s must be a mapping" % field, field=field)


class Plan(object):
    """Everything rendered, except the ConfigMap contents (read back when writing)."""

    def __init__(self):
        self.topology = None
        self.configmaps = []      # [(name, [Blob])]
        self.sources = {}         # sha256 -> lab relpath holding that content
        self.mounts = {}          # node -> [{filePath, configMapName, configMapPath, mode}]
        self.url_files = {}       # node -> [{filePath, url}]
        self.large_files = []     # [{path, url, size, sha256}]
        self.renamed = {}         # original node name -> Kubernetes name
        self.warnings = []
        self.cm_labels = {}
        self.namespace = None
        self.inventory = []       # the inventory ConfigMap and credentials Secret (c9s.inventory)
        self.nodes = 0            # nodes in the lab

    def warn_once(self, message):
        if message not in self.warnings:
            self.warnings.append(message)


def plan_render(lab, namespace, name=None, api_version=API_VERSIONS[0],
                max_configmap_bytes=DEFAULT_MAX_CONFIGMAP_BYTES, large_file_url=None,
                labels=None, expose=None, status_probes=None, naming="global"):
    """The Plan of every object for `lab` (from lab.source.open_lab); no file is written."""
    _check_options(namespace, api_version, naming, max_configmap_bytes, status_probes, expose)
    plan = Plan()
    plan.namespace = namespace
    clab, clab_text = read_clab(lab)
    topo_name = _topology_name(lab, clab, name, plan)
    node_map = _node_names(clab, plan)
    plan.nodes = len(node_map)
    base_labels = _base_labels(labels, topo_name)
    plan.cm_labels = dict(base_labels, **{COMPONENT_LABEL: "files"})
    plan.inventory = inventory.objects(lab, clab, node_map, topo_name, namespace, base_labels, plan.warn_once)

    wanted = _collect(lab, clab, plan, api_version)
    warn_nodes(lab, clab, plan, wanted, api_version)
    warn_definition(clab, plan, api_version, topo_name, naming, node_map)
    _refuse_oversized_topology(clab, clab_text, plan, wanted, node_map, topo_name, large_file_url)

    described, blobs = _describe(lab, wanted, plan)
    cm_of = _pack(blobs, plan, topo_name, max_configmap_bytes, large_file_url)
    _mount(clab, wanted, node_map, described, cm_of, plan, large_file_url)

    definition = _rename_definition(clab, plan.renamed) if plan.renamed else clab_text.decode("utf-8")
    plan.topology = _topology(api_version, topo_name, namespace, dict(base_labels, **{COMPONENT_LABEL: "topology"}),
                              definition, plan, expose, status_probes, naming)
    _check_topology_size(plan)
    return plan


def _topology_name(lab, clab, name, plan):
    """The Topology's name: the name option, else the lab's; made a valid label if needed."""
    lab_name = name or clab.get("name")
    if not lab_name:
        raise LabError("%s in %s has no 'name' and no name option was given; set one of them"
                       % (lab.clab_file, lab.origin), field="name")
    topo_name = names.to_label(str(lab_name))
    if topo_name != str(lab_name):
        plan.warnings.append("lab name %r is not a valid Kubernetes name; the Topology is named %r. "
                             "Give a valid name (the name option, lab_name in the playbooks), e.g. %r"
                             % (str(lab_name), topo_name, topo_name))
    return topo_name


def _node_names(clab, plan):
    """{node: Kubernetes name}; plan.renamed lists the ones that had to change."""
    node_map = names.map_names(clab_utils.node_names(clab), "node")
    plan.renamed = dict((k, v) for k, v in node_map.items() if k != v)
    if plan.renamed:
        plan.warnings.append(
            "node names that are not valid Kubernetes names were renamed in the definition "
            "(links and references rewritten): %s; rename them in the topology to keep the names "
            "the same everywhere" % short_list("%s -> %s" % item for item in plan.renamed.items()))
    return node_map


def _base_labels(labels, topo_name):
    """The user's labels plus the lab's (contract.lab_labels), which they may not change."""
    reserved = lab_labels(topo_name)
    user_labels = check_labels(labels, dict(reserved, **{COMPONENT_LABEL: None}))
    return dict(user_labels, **reserved)


def _describe(lab, wanted, plan):
    """({path: Blob}, {sha256: Blob}): each distinct content once, keyed by its first path."""
    blobs = {}
    described = {}
    for node in sorted(wanted):
        for path, _mode, _ref in wanted[node]:
            if path in described:
                continue
            blob = pack.describe(lab.read(path))
            described[path] = blob
            known = blobs.get(blob.sha256)
            if known is None or path < plan.sources[blob.sha256]:
                plan.sources[blob.sha256] = path
            if known is None:
                blobs[blob.sha256] = blob
    _rekey(blobs, plan.sources)
    return described, blobs


def _pack(blobs, plan, topo_name, max_configmap_bytes, large_file_url):
    """Pack what fits into ConfigMaps (plan.configmaps); -> {sha256: (ConfigMap, key)}.

    What does not fit goes by URL, and needs large_file_url."""
    envelope = pack.envelope_bytes(plan.namespace, plan.cm_labels)
    small = [b for b in blobs.values() if pack.fits(b, max_configmap_bytes, envelope)]
    large = set(blobs) - set(b.sha256 for b in small)
    if large and not large_file_url:
        worst = max((blobs[s] for s in large), key=lambda b: (b.size, plan.sources[b.sha256]))
        raise LabError(pack.too_large_message(plan.sources[worst.sha256], worst.size,
                                              max_configmap_bytes, envelope),
                       path=plan.sources[worst.sha256])
    cm_of = {}
    for members in pack.pack(small, max_configmap_bytes, envelope):
        cm_name = pack.configmap_name(topo_name, [b.key for b in members])
        if cm_name == topo_name:
            raise LabError("ConfigMap name %s equals the Topology name; rename the lab" % cm_name)
        plan.configmaps.append((cm_name, members))
        for blob in members:
            cm_of[blob.sha256] = (cm_name, blob.key)
    plan.configmaps.sort(key=lambda item: item[0])
    return cm_of


def _mount(clab, wanted, node_map, described, cm_of, plan, large_file_url):
    """Every node's filesFromConfigMap (plan.mounts) and filesFromURL (plan.url_files)."""
    base_url = (large_file_url or "").rstrip("/")
    for node in clab_utils.node_names(clab):
        k8s_node = node_map[node]
        mounts = {}
        urls = {}
        for path, mode, ref in wanted.get(node, ()):
            file_path = _mount_path(clab, ref, path, k8s_node)
            if file_path in LAUNCHER_FILES:
                raise LabError("node %s: %s would be mounted over /clabernetes/%s, which the "
                               "Clabernetes launcher uses itself; rename the file in the lab"
                               % (node, path, file_path), node=node, path=path)
            blob = described[path]
            if blob.sha256 in cm_of:
                cm_name, key = cm_of[blob.sha256]
                mounts[file_path] = {"filePath": file_path, "configMapName": cm_name,
                                     "configMapPath": key,
                                     "mode": "execute" if mode & 0o111 else "read"}
            else:
                urls[file_path] = {"filePath": file_path, "url": "%s/%s" % (base_url, path)}
                plan.large_files.append({"path": path, "url": urls[file_path]["url"],
                                         "size": blob.size, "sha256": blob.sha256})
        if mounts:
            plan.mounts[k8s_node] = [mounts[p] for p in sorted(mounts)]
        if urls:
            plan.url_files[k8s_node] = [urls[p] for p in sorted(urls)]
    unique_large = dict((f["path"], f) for f in plan.large_files)
    # Not a warning: the user chose large_file_url, so no advice could make it go away. The
    # task returns the list (large_files) and the playbooks' summaries say what to upload.
    plan.large_files = [unique_large[p] for p in sorted(unique_large)]


_MOUNT_JSON = len('{"configMapName":"","configMapPath":"","filePath":"","mode":"read"},')
_URL_JSON = len('{"filePath":"","url":"/"},')


def _refuse_oversized_topology(clab, clab_text, plan, wanted, node_map, topo_name, large_file_url):
    """Fail before any file is read when the Topology cannot fit whatever the packing:
    a lower bound of its size is the definition plus, per mounted file, the shortest
    entry it can get (a ConfigMap name and key are at least NAME_HASH_LEN and
    KEY_HASH_LEN long)."""
    least_cm = min(len(topo_name), 1) + len("-files-") + pack.NAME_HASH_LEN
    total = 0 if plan.renamed else len(clab_text)
    for node, entries in wanted.items():
        k8s_node = node_map[node]
        for file_path in set(_mount_path(clab, ref, path, k8s_node) for path, _mode, ref in entries):
            entry = _MOUNT_JSON + least_cm + pack.KEY_HASH_LEN + len(file_path)
            if large_file_url:
                entry = min(entry, _URL_JSON + 2 * len(file_path) + len(large_file_url.rstrip("/")))
            total += entry
    if total > TOPOLOGY_MAX_BYTES:
        raise LabError("the Topology object would be at least %d bytes, over the %d byte limit etcd accepts "
                       "by default; split the lab or move inline startup-configs into files"
                       % (total, TOPOLOGY_MAX_BYTES), field="spec")


def _check_topology_size(plan):
    size = pack.serialized_size(plan.topology)
    if size > TOPOLOGY_MAX_BYTES:
        raise LabError("the Topology object would be %d bytes, over the %d byte limit etcd accepts "
                       "by default; split the lab or move inline startup-configs into files"
                       % (size, TOPOLOGY_MAX_BYTES), field="spec")
    if size > TOPOLOGY_WARN_BYTES:
        plan.warnings.append("the Topology object is %d bytes; the controller adds a status of "
                             "similar size and etcd stores at most 1.5 MiB per object by default"
                             % size)


def _collect(lab, clab, plan, api_version):
    """{node: [(lab file relpath, normalised mode, FileRef)]} of every file a node mounts;
    warnings go to the plan."""
    wanted = {}
    outside = set()
    hosts_binds = []
    runtime = []
    for node, refs in clab_utils.all_node_files(clab).items():
        entries = []
        for ref in refs:
            if clab_utils.is_runtime_path(ref.source):
                runtime.append("%s (node %s)" % (ref.source, node))
                continue
            relpath = ref.lab_path
            if relpath is None:
                outside.add("%s (node %s)" % (ref.source, node))
                continue
            if ref.kind == "linux" and ref.role == "bind" and ref.target == "/etc/hosts":
                hosts_binds.append(node)
            found = lab.files_at(relpath)
            if found is None:
                raise LabError(
                    "node %s: %s %r (%s level) does not exist in %s; add the file to the lab or "
                    "fix the topology" % (node, "bind source" if ref.role == "bind" else ref.role,
                                          ref.source, ref.level, lab.origin),
                    node=node, path=ref.source)
            if not found:
                plan.warn_once("node %s: directory %s is empty, so nothing is mounted there and "
                               "containerlab will not find it in the launcher pod; put the files the "
                               "node needs into it, or remove that bind from the node" % (node, relpath))
            for path, mode in found:
                entries.append((path, mode, ref))
        wanted[node] = entries
    if outside:
        plan.warnings.append(
            "host paths outside the lab are left as they are (they must exist on every launcher "
            "pod, which they usually do not): %s; copy each file next to the topology and bind it by "
            "a relative path (the lab then carries it), or remove the bind" % short_list(outside))
    if runtime:
        plan.warnings.append(runtime_paths_warning(runtime))
    if hosts_binds:
        plan.warnings.append(
            "single-file /etc/hosts binds on linux nodes (%s): the container runtime inside a "
            "launcher pod manages /etc/hosts and such binds are known to fail there; %s"
            % (short_list(set(hosts_binds)), advice.hosts_bind_advice(lab, sorted(set(hosts_binds)))))
    return wanted


def _rename_definition(clab, renamed):
    """The clab YAML with node names replaced everywhere containerlab refers to them."""
    def node(name):
        return renamed.get(str(name), name)

    def endpoint(value):
        if isinstance(value, str) and ":" in value:
            head, tail = value.split(":", 1)
            return "%s:%s" % (node(head), tail)
        if isinstance(value, dict) and "node" in value:
            value = dict(value, node=node(value["node"]))
        return value

    data = copy.deepcopy(clab)
    topo = data["topology"]
    topo["nodes"] = dict((node(name), spec) for name, spec in (topo.get("nodes") or {}).items())
    for spec in topo["nodes"].values():
        if not isinstance(spec, dict):
            continue
        mode = spec.get("network-mode")
        if isinstance(mode, str) and mode.startswith("container:"):
            spec["network-mode"] = "container:" + node(mode[len("container:"):])
        for stage in (spec.get("stages") or {}).values():
            for wait in (stage or {}).get("wait-for") or []:
                if isinstance(wait, dict) and "node" in wait:
                    wait["node"] = node(wait["node"])
    for link in topo.get("links") or []:
        if isinstance(link, dict):
            if "endpoints" in link:
                link["endpoints"] = [endpoint(ep) for ep in link["endpoints"]]
            if "endpoint" in link:
                link["endpoint"] = endpoint(link["endpoint"])
    return dump_yaml(data, sort_keys=False)


def _mount_path(clab, ref, path, k8s_node):
    """Where containerlab in the launcher looks for `path`: `__clabNodeName__` expands to
    the node's (possibly renamed) name there."""
    if k8s_node == ref.node:
        return path
    raw = _raw_source(clab, ref)
    if clab_utils.NODE_NAME not in raw:
        return path
    renamed = clab_utils.lab_relpath(clab_utils.expand_node_name(raw, k8s_node))
    return renamed + path[len(ref.lab_path):]


def _raw_source(clab, ref):
    """The bind/startup-config value as written at its level, before placeholder expansion."""
    for level, settings in clab_utils.node_levels(clab, ref.node):
        if level != ref.level:
            continue
        if ref.role == "bind":
            for bind in settings.get("binds") or []:
                host, target, _opts = clab_utils.split_bind(bind, ref.node)
                if target == ref.target and host:
                    return host
        return str(settings.get(ref.role) or "")
    return ""


def _rekey(blobs, sources):
    """Give every blob the key of its canonical (first) path; detect key collisions."""
    owner = {}
    for sha, blob in blobs.items():
        pack.set_key(blob, sources[sha])
        other = owner.get(blob.key)
        if other is not None:
            raise LabError("two different files (%s, %s) got the same ConfigMap key %s; this "
                           "is a hash prefix collision, please report it" % (sources[other], sources[sha], blob.key))
        owner[blob.key] = sha


def _topology(api_version, name, namespace, labels, definition, plan, expose, status_probes, naming):
    """The Topology object: definition, mounts, URL files, naming, probes; never status."""
    deployment = {}
    if plan.mounts:
        deployment["filesFromConfigMap"] = plan.mounts
    if plan.url_files:
        deployment["filesFromURL"] = plan.url_files
    spec = {
        "definition": {"containerlab": definition},
        "naming": naming,
        "statusProbes": dict(status_probes) if status_probes is not None else dict(DEFAULT_STATUS_PROBES),
    }
    if deployment:
        spec["deployment"] = deployment
    if expose:
        spec["expose"] = dict(expose)
    return {"apiVersion": api_version, "kind": "Topology",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": spec}
