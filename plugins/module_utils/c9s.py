# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render a containerlab lab into ConfigMaps plus a Clabernetes Topology.

Clabernetes runs containerlab in each launcher pod with the working directory
/clabernetes and mounts every `filesFromConfigMap` entry at `/clabernetes/<filePath>`
(subPath mount).  So a lab-relative bind source or startup-config path, given as the
filePath, appears exactly where containerlab resolves it and the definition needs no
path rewriting.  Inline startup-configs travel inside the definition.

Memory stays close to the bundle's size, not the lab's: a bundle is held as one
zlib-compressed copy of each distinct content (read only after every member was
validated), and each ConfigMap is built, written out and dropped on its own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect
import copy
import hashlib
import os
import posixpath
import re
import stat
import tarfile
import tempfile
import zlib

from ansible_collections.skyforge.labs.plugins.module_utils import bundle as bundle_utils
from ansible_collections.skyforge.labs.plugins.module_utils import c9s_advice
from ansible_collections.skyforge.labs.plugins.module_utils import clab as clab_utils
from ansible_collections.skyforge.labs.plugins.module_utils import configmaps
from ansible_collections.skyforge.labs.plugins.module_utils import c9s_yaml_emit
from ansible_collections.skyforge.labs.plugins.module_utils import names
from ansible_collections.skyforge.labs.plugins.module_utils.errors import LabError

try:
    import yaml
    _Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    HAS_YAML = True
except ImportError:
    yaml = None
    _Dumper = object
    HAS_YAML = False

API_VERSIONS = ("c9s.run/v1alpha1", "clabernetes.containerlab.dev/v1alpha1")
NAMING = ("global", "prefixed", "non-prefixed")
CLAB_FILE = "clab.yml"
DEFAULT_MAX_CONFIGMAP_BYTES = 900000
DEFAULT_STATUS_PROBES = {"enabled": False}
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "skyforge.labs"
LAB_LABEL = "skyforge.labs/lab"
COMPONENT_LABEL = "skyforge.labs/component"
# Custom resources live in etcd as JSON; its default request limit is 1.5 MiB, and the
# controller adds a status of comparable size, so warn well before the hard stop.
TOPOLOGY_WARN_BYTES = 1048576
TOPOLOGY_MAX_BYTES = 1572864 - 65536

# What a launcher pod already has in its working directory /clabernetes.
LAUNCHER_FILES = frozenset(("topo.clab.yaml", "tunnels.yaml", "files-from-url.yaml",
                            "configured-pull-secrets.yaml", "manager"))

_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


# ---------------------------------------------------------------- lab sources

class LabDir(object):
    """Files of a lab directory, read on demand; symlinks must stay inside the lab."""

    def __init__(self, root):
        self.root = os.path.realpath(root)
        self.origin = root
        self._reals = {}
        self._dirs = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._reals = {}
        self._dirs = {}

    def _real(self, relpath):
        real = self._reals.get(relpath)
        if real is None:
            real = self._resolve(relpath)
            if real != self.root and not real.startswith(self.root + os.sep):
                raise LabError("%s in %s resolves to %s, outside the lab; copy the file into the lab "
                               "directory instead of linking it" % (relpath, self.origin, real), path=relpath)
            self._reals[relpath] = real
        return real

    def _resolve(self, relpath):
        """os.path.realpath(root/relpath), with one realpath per directory: the file itself
        needs resolving only when it is a link (one lstat, not one per path component)."""
        parent, leaf = posixpath.split(relpath)
        if not parent or leaf in ("", ".", ".."):
            return os.path.realpath(os.path.join(self.root, relpath))
        real_parent = self._dirs.get(parent)
        if real_parent is None:
            real_parent = self._dirs[parent] = self._resolve(parent)
        real = os.path.join(real_parent, leaf)
        return os.path.realpath(real) if os.path.islink(real) else real

    def read(self, relpath):
        with open(self._real(relpath), "rb") as handle:
            return handle.read()

    def files_at(self, relpath):
        """[(file relpath, normalised mode)] for a file, or every file under a directory;
        None when nothing exists at relpath."""
        real = self._real(relpath)
        try:
            info = os.stat(real)
        except OSError:
            return None
        if stat.S_ISREG(info.st_mode):
            return [(relpath, bundle_utils.normalise_mode(info.st_mode))]
        if not stat.S_ISDIR(info.st_mode):
            raise LabError("%s in %s is neither a regular file nor a directory; replace it with the "
                           "file the lab needs" % (relpath, self.origin), path=relpath)
        found = []
        for current, dirnames, filenames in os.walk(real):
            dirnames.sort()
            for name in sorted(filenames):
                sub = posixpath.join(relpath, os.path.relpath(os.path.join(current, name), real)
                                     .replace(os.sep, "/"))
                found.extend(self.files_at(sub) or [])
        return found

    def listdir(self, relpath):
        try:
            with os.scandir(os.path.join(self.root, relpath)) as entries:
                return sorted(entry.name for entry in entries if _is_file(entry))
        except OSError:
            return []


def _is_file(entry):
    """os.path.isfile for a scandir entry, without a stat unless it is a link."""
    try:
        return entry.is_file()
    except OSError:
        return False


class LabBundle(object):
    """Files of a bundle held in memory, each distinct content once and zlib-compressed,
    so memory stays close to the bundle's own size.  Every member is validated (by the
    bundle module's checks) before any content is read."""

    def __init__(self, path):
        self.origin = "bundle %s" % path
        self._files = {}     # relpath -> (sha256, mode)
        self._blobs = {}     # sha256 -> zlib-compressed content
        try:
            with tarfile.open(path, mode="r:*") as archive:
                members = bundle_utils.validated_members(archive, path)
                for member in members:
                    if member.name in self._files:
                        raise LabError("bundle %s: member %r appears twice; rebuild it with "
                                       "netlab_generate" % (path, member.name))
                    content = archive.extractfile(member).read()
                    sha = hashlib.sha256(content).hexdigest()
                    if sha not in self._blobs:
                        self._blobs[sha] = zlib.compress(content, 1)
                    self._files[member.name] = (sha, bundle_utils.normalise_mode(member.mode))
                    del content
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(":")
            raise LabError("bundle %s is not a readable .tar.gz (%s); rebuild it with netlab_generate"
                           % (path, reason), path=path)
        self._paths = sorted(self._files)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._blobs = {}

    def read(self, relpath):
        return zlib.decompress(self._blobs[self._files[relpath][0]])

    def _under(self, relpath):
        prefix = relpath.rstrip("/") + "/"
        start = bisect.bisect_left(self._paths, prefix)
        for path in self._paths[start:]:
            if not path.startswith(prefix):
                break
            yield path

    def files_at(self, relpath):
        if relpath in self._files:
            return [(relpath, self._files[relpath][1])]
        found = [(path, self._files[path][1]) for path in self._under(relpath)]
        return found or None

    def listdir(self, relpath):
        prefix = relpath.rstrip("/") + "/"
        return [path[len(prefix):] for path in self._under(relpath) if "/" not in path[len(prefix):]]


def open_lab(src):
    """A LabDir for a lab directory or a LabBundle for a bundle (.tar.gz); use as a context."""
    if os.path.isdir(src):
        if not os.path.isfile(os.path.join(src, CLAB_FILE)):
            raise LabError("directory %s holds no %s; point src at the netlab workdir or the bundle"
                           % (src, CLAB_FILE), path=src)
        return LabDir(src)
    if not os.path.isfile(src):
        raise LabError("src %s does not exist; give the lab bundle (.tar.gz) or the directory "
                       "holding %s" % (src, CLAB_FILE), path=src)
    if src.endswith((".yml", ".yaml")):
        raise LabError("src %s is a YAML file: give the directory holding it (the netlab workdir "
                       "with %s) or the lab bundle (.tar.gz)" % (src, CLAB_FILE), path=src)
    lab = LabBundle(src)
    if lab.files_at(CLAB_FILE) is None:
        raise LabError("bundle %s has no %s at its root; build it with netlab_generate"
                       % (src, CLAB_FILE), path=src)
    return lab


# ---------------------------------------------------------------- options

def check_labels(labels, reserved):
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
    configmaps.check_budget(max_configmap_bytes)
    for field, value in (("status_probes", status_probes), ("expose", expose)):
        if value is not None and not isinstance(value, dict):
            raise LabError("%s must be a mapping" % field, field=field)


# ---------------------------------------------------------------- the plan

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


def _warn_once(plan, message):
    if message not in plan.warnings:
        plan.warnings.append(message)


def _short_list(items, limit=10):
    items = sorted(items)
    text = ", ".join(items[:limit])
    return text + (" and %d more" % (len(items) - limit) if len(items) > limit else "")


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


def _collect(lab, clab, plan, api_version):
    """{node: [(lab file relpath, normalised mode, FileRef)]}; warnings go to the plan."""
    wanted = {}
    outside = set()
    hosts_binds = []
    runtime = []
    for node, refs in clab_utils.all_node_files(clab).items():
        entries = []
        kind = clab_utils.node_kind(clab, node)
        for ref in refs:
            if clab_utils.is_runtime_path(ref.source):
                runtime.append("%s (node %s)" % (ref.source, node))
                continue
            relpath = ref.lab_path
            if relpath is None:
                outside.add("%s (node %s)" % (ref.source, node))
                continue
            if kind == "linux" and ref.role == "bind" and ref.target == "/etc/hosts":
                hosts_binds.append(node)
            found = lab.files_at(relpath)
            if found is None:
                raise LabError(
                    "node %s: %s %r (%s level) does not exist in %s; add the file to the lab or "
                    "fix the topology" % (node, "bind source" if ref.role == "bind" else ref.role,
                                          ref.source, ref.level, lab.origin),
                    node=node, path=ref.source)
            if not found:
                _warn_once(plan, "node %s: directory %s is empty, so nothing is mounted there and "
                                 "containerlab will not find it in the launcher pod; put the files the "
                                 "node needs into it, or remove that bind from the node" % (node, relpath))
            for path, mode in found:
                entries.append((path, mode, ref))
        wanted[node] = entries
    if outside:
        plan.warnings.append(
            "host paths outside the lab are left as they are (they must exist on every launcher "
            "pod, which they usually do not): %s; copy each file next to the topology and bind it by "
            "a relative path (the lab then carries it), or remove the bind" % _short_list(outside))
    if runtime:
        plan.warnings.append(_runtime_paths_warning(runtime))
    if hosts_binds:
        plan.warnings.append(
            "single-file /etc/hosts binds on linux nodes (%s): the container runtime inside a "
            "launcher pod manages /etc/hosts and such binds are known to fail there; %s"
            % (_short_list(set(hosts_binds)), c9s_advice.hosts_bind_advice(lab, sorted(set(hosts_binds)))))
    return wanted


def _runtime_paths_warning(sources):
    return (
        "paths in containerlab's runtime directories are not mounted from the lab: %s. "
        "__clabDir__ and __clabNodeDir__ name directories containerlab creates when it deploys (in "
        "the launcher pod, empty), so these files will not exist there unless the node writes them "
        "itself; to ship a lab file, reference it relative to the topology instead (clabverter "
        "reads __clabDir__ as the topology's directory, containerlab does not)" % _short_list(sources))


def _warn_node_pitfalls(lab, clab, plan, wanted, api_version):
    bridges = []
    ns_scripts = []
    unmounted = {}
    for node in clab_utils.node_names(clab):
        kind = clab_utils.node_kind(clab, node)
        if kind == "bridge":
            bridges.append(node)
        if kind == "linux":
            used = set(path for path, _mode, _ref in wanted.get(node, ()))
            unused = [name for name in lab.listdir(posixpath.join("node_files", node))
                      if posixpath.join("node_files", node, name) not in used]
            if unused:
                ns_scripts.append("%s (%s)" % (node, ", ".join(unused)))
                unmounted[node] = unused
    if bridges and api_version == "c9s.run/v1alpha1":
        plan.warnings.append(
            "bridge nodes %s: Clabernetes v0.8 (c9s.run) rejects kind 'bridge' (netlab uses it for "
            "multi-access LANs); use api_version clabernetes.containerlab.dev/v1alpha1 (v0.6) or "
            "make the LANs point-to-point" % _short_list(bridges))
    if ns_scripts:
        plan.warnings.append(
            "linux nodes with netlab configuration scripts the topology does not mount: %s. netlab "
            "runs them on the host with 'ip netns exec' (config mode 'ns'), which cannot work in "
            "Clabernetes launcher pods, so these nodes come up unconfigured; %s"
            % (_short_list(ns_scripts), c9s_advice.ns_scripts_advice(lab, unmounted)))


def _warn_definition_pitfalls(clab, plan, api_version, topo_name, naming, node_map):
    topo = clab["topology"]
    if api_version == "clabernetes.containerlab.dev/v1alpha1":
        grouped = [node for node in clab_utils.node_names(clab)
                   if any(level == "groups" and settings
                          for level, settings in clab_utils.node_levels(clab, node))]
        if grouped:
            plan.warnings.append(
                "nodes %s take settings from topology.groups, which Clabernetes v0.6 leaves out of "
                "each node's launcher topology (only defaults, the node's kind and the node are "
                "kept); move those settings to kinds or the nodes" % _short_list(grouped))
        extended = [str(index) for index, link in enumerate(topo.get("links") or [])
                    if not (isinstance(link, dict) and all(isinstance(ep, str) for ep in link.get("endpoints") or [None]))]
        if extended:
            plan.warnings.append(
                "links %s use the extended link format; Clabernetes v0.6 only parses "
                "'endpoints: [\"node:iface\", \"node:iface\"]' and will not deploy them; rewrite them in that form"
                % ", ".join(extended[:10]))
    if api_version == "c9s.run/v1alpha1" and naming == "prefixed":
        plan.warnings.append(
            "naming 'prefixed' has no effect with c9s.run (Clabernetes v0.7+): Nodes, launcher "
            "Deployments and Services are named after the node alone (%s), so no other lab in "
            "namespace %s may have nodes of the same names (c9s_apply refuses such a lab)"
            % (_short_list(sorted(node_map.values())), plan.namespace))
    elif naming in ("prefixed", "global"):
        too_long = [node for node in node_map.values()
                    if len(topo_name) + len(node) + len("--vx") > names.LABEL_MAX]
        if too_long:
            plan.warnings.append(
                "with %s naming Clabernetes names Services '<topology>-<node>-vx', which must stay "
                "within 63 characters; too long for nodes %s: shorten the lab or node names or use "
                "naming non-prefixed" % (naming, _short_list(too_long)))


def plan_render(lab, namespace, name=None, api_version=API_VERSIONS[0],
                max_configmap_bytes=DEFAULT_MAX_CONFIGMAP_BYTES, large_file_url=None,
                labels=None, expose=None, status_probes=None, naming="global"):
    """Work out every object; no file is written.  `lab` comes from open_lab()."""
    _check_options(namespace, api_version, naming, max_configmap_bytes, status_probes, expose)
    plan = Plan()
    plan.namespace = namespace
    clab_text = lab.read(CLAB_FILE)
    clab = clab_utils.parse_clab(clab_text, "%s in %s" % (CLAB_FILE, lab.origin))

    lab_name = name or clab.get("name")
    if not lab_name:
        raise LabError("%s in %s has no 'name' and no name option was given; set one of them"
                       % (CLAB_FILE, lab.origin), field="name")
    topo_name = names.to_label(str(lab_name))
    if topo_name != str(lab_name):
        plan.warnings.append("lab name %r is not a valid Kubernetes name; the Topology is named %r. "
                             "Give a valid name (the name option, lab_name in the playbooks), e.g. %r"
                             % (str(lab_name), topo_name, topo_name))
    node_map = names.map_names(clab_utils.node_names(clab), "node")
    plan.renamed = dict((k, v) for k, v in node_map.items() if k != v)
    if plan.renamed:
        plan.warnings.append(
            "node names that are not valid Kubernetes names were renamed in the definition "
            "(links and references rewritten): %s; rename them in the topology to keep the names "
            "the same everywhere" % _short_list("%s -> %s" % item for item in plan.renamed.items()))

    reserved = {MANAGED_BY: MANAGED_BY_VALUE, LAB_LABEL: topo_name}
    user_labels = check_labels(labels, dict(reserved, **{COMPONENT_LABEL: None}))
    base_labels = dict(user_labels, **reserved)
    plan.cm_labels = dict(base_labels, **{COMPONENT_LABEL: "files"})
    envelope = configmaps.envelope_bytes(namespace, plan.cm_labels)

    wanted = _collect(lab, clab, plan, api_version)
    _warn_node_pitfalls(lab, clab, plan, wanted, api_version)
    _warn_definition_pitfalls(clab, plan, api_version, topo_name, naming, node_map)
    _refuse_oversized_topology(clab, clab_text, plan, wanted, node_map, topo_name, large_file_url)

    blobs = {}
    described = {}
    for node in sorted(wanted):
        for path, _mode, _ref in wanted[node]:
            if path in described:
                continue
            blob = configmaps.describe(lab.read(path))
            described[path] = blob
            known = blobs.get(blob.sha256)
            if known is None or path < plan.sources[blob.sha256]:
                plan.sources[blob.sha256] = path
            if known is None:
                blobs[blob.sha256] = blob
    _rekey(blobs, plan.sources)

    small = [b for b in blobs.values() if configmaps.fits(b, max_configmap_bytes, envelope)]
    large = set(blobs) - set(b.sha256 for b in small)
    if large and not large_file_url:
        worst = max((blobs[s] for s in large), key=lambda b: (b.size, plan.sources[b.sha256]))
        raise LabError(configmaps.too_large_message(plan.sources[worst.sha256], worst.size,
                                                    max_configmap_bytes, envelope),
                       path=plan.sources[worst.sha256])
    cm_of = {}
    prefix = topo_name
    for members in configmaps.pack(small, max_configmap_bytes, envelope):
        cm_name = configmaps.configmap_name(prefix, [b.key for b in members])
        if cm_name == topo_name:
            raise LabError("ConfigMap name %s equals the Topology name; rename the lab" % cm_name)
        plan.configmaps.append((cm_name, members))
        for blob in members:
            cm_of[blob.sha256] = (cm_name, blob.key)
    plan.configmaps.sort(key=lambda item: item[0])

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
    plan.large_files = [unique_large[p] for p in sorted(unique_large)]
    if plan.large_files:
        plan.warnings.append(
            "files too large for a ConfigMap are fetched by the launcher from %s: %s; upload them "
            "there (same relative paths) before deploying"
            % (base_url, _short_list(f["path"] for f in plan.large_files)))

    if plan.renamed:
        definition = _rename_definition(clab, plan.renamed)
    else:
        definition = clab_text.decode("utf-8")
    plan.topology = _topology(api_version, topo_name, namespace, dict(base_labels, **{COMPONENT_LABEL: "topology"}),
                              definition, plan, expose, status_probes, naming)
    size = configmaps.serialized_size(plan.topology)
    if size > TOPOLOGY_MAX_BYTES:
        raise LabError("the Topology object would be %d bytes, over the %d byte limit etcd accepts "
                       "by default; split the lab or move inline startup-configs into files"
                       % (size, TOPOLOGY_MAX_BYTES), field="spec")
    if size > TOPOLOGY_WARN_BYTES:
        plan.warnings.append("the Topology object is %d bytes; the controller adds a status of "
                             "similar size and etcd stores at most 1.5 MiB per object by default"
                             % size)
    return plan


_MOUNT_JSON = len('{"configMapName":"","configMapPath":"","filePath":"","mode":"read"},')
_URL_JSON = len('{"filePath":"","url":"/"},')


def _refuse_oversized_topology(clab, clab_text, plan, wanted, node_map, topo_name, large_file_url):
    """Fail before any file is read when the Topology cannot fit whatever the packing:
    a lower bound of its size is the definition plus, per mounted file, the shortest
    entry it can get (a ConfigMap name and key are at least NAME_HASH_LEN and
    KEY_HASH_LEN long)."""
    least_cm = min(len(topo_name), 1) + len("-files-") + configmaps.NAME_HASH_LEN
    total = 0 if plan.renamed else len(clab_text)
    for node, entries in wanted.items():
        k8s_node = node_map[node]
        for file_path in set(_mount_path(clab, ref, path, k8s_node) for path, _mode, ref in entries):
            entry = _MOUNT_JSON + least_cm + configmaps.KEY_HASH_LEN + len(file_path)
            if large_file_url:
                entry = min(entry, _URL_JSON + 2 * len(file_path) + len(large_file_url.rstrip("/")))
            total += entry
    if total > TOPOLOGY_MAX_BYTES:
        raise LabError("the Topology object would be at least %d bytes, over the %d byte limit etcd accepts "
                       "by default; split the lab or move inline startup-configs into files"
                       % (total, TOPOLOGY_MAX_BYTES), field="spec")


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
        configmaps.set_key(blob, sources[sha])
        other = owner.get(blob.key)
        if other is not None:
            raise LabError("two different files (%s, %s) got the same ConfigMap key %s; this "
                           "is a hash prefix collision, please report it" % (sources[other], sources[sha], blob.key))
        owner[blob.key] = sha


def _topology(api_version, name, namespace, labels, definition, plan, expose, status_probes, naming):
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


# ---------------------------------------------------------------- output

class _BlockDumper(_Dumper):
    """Multi-line strings as literal blocks (readable configs); the emitter falls back to
    quoted style by itself when a string cannot round-trip as a block."""


def _represent_str(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


if HAS_YAML:
    _BlockDumper.add_representer(str, _represent_str)


def dump_yaml(obj, sort_keys=True):
    return yaml.dump(obj, Dumper=_BlockDumper, default_flow_style=False, sort_keys=sort_keys,
                     allow_unicode=True, width=2 ** 30)


def configmap_objects(lab, plan):
    """Yield the ConfigMap objects one at a time, contents read back from the lab."""
    for cm_name, members in plan.configmaps:
        entries = [(blob, lab.read(plan.sources[blob.sha256])) for blob in members]
        obj = configmaps.build(cm_name, plan.namespace, plan.cm_labels, entries)
        yield obj


def write_manifests(lab, plan, handle):
    """Stream the multi-document YAML to a binary handle; return per-ConfigMap summaries."""
    summary = []
    for obj in configmap_objects(lab, plan):
        size = configmaps.serialized_size(obj)
        summary.append({"name": obj["metadata"]["name"], "bytes": size,
                        "keys": len(obj.get("data", {})) + len(obj.get("binaryData", {}))})
        handle.write(b"---\n")
        handle.write((c9s_yaml_emit.emit(obj, dump_yaml) or dump_yaml(obj)).encode("utf-8"))
        del obj
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
    text = c9s_yaml_emit.emit(topology, dump_yaml)
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


class _HashingWriter(object):
    def __init__(self, handle):
        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data):
        self.digest.update(data)
        self.size += len(data)
        self.handle.write(data)


def render_to(lab, plan, dest, check_mode=False):
    """Write the manifests to dest atomically, only when the bytes differ.

    Returns (changed, sha256, size, summary, tmp_path_or_None): in check mode the new
    text is left in a temporary file for a diff (caller removes it)."""
    directory = os.path.dirname(os.path.abspath(dest)) or "."
    if check_mode:
        fd, tmp = tempfile.mkstemp(prefix="skyforge-render-check-")
    else:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(dest), dir=directory)
    try:
        with os.fdopen(fd, "wb") as raw:
            writer = _HashingWriter(raw)
            summary = write_manifests(lab, plan, writer)
            raw.flush()
            if not check_mode:
                os.fsync(raw.fileno())
        sha = writer.digest.hexdigest()
        changed = not (os.path.isfile(dest) and bundle_utils.sha256_file(dest) == sha)
        if check_mode:
            return changed, sha, writer.size, summary, tmp
        if changed:
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)
        else:
            os.unlink(tmp)
        return changed, sha, writer.size, summary, None
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def render(src, dest, namespace, check_mode=False, **options):
    """open_lab + plan_render + render_to; returns the module result (minus diff)."""
    with open_lab(src) as lab:
        plan = plan_render(lab, namespace, **options)
        changed, sha, size, summary, tmp = render_to(lab, plan, dest, check_mode=check_mode)
    return {
        "changed": changed,
        "dest": dest,
        "manifest_sha256": sha,
        "manifest_bytes": size,
        "topology": {"name": plan.topology["metadata"]["name"], "namespace": namespace,
                     "api_version": plan.topology["apiVersion"]},
        "configmaps": summary,
        "mounts": plan.mounts,
        "files_from_url": plan.url_files,
        "large_files": plan.large_files,
        "renamed_nodes": plan.renamed,
        "warnings": plan.warnings,
        "_check_tmp": tmp,
    }
