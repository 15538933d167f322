# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one lab loader: a lab is a directory holding clab.yml, a containerlab file (its
directory is the lab), or a bundle (.tar.gz with clab.yml at its root, as netlab_generate
writes it). open_lab() gives the same read-only view of all three; lab_nodes() what the
lab is made of (nodes, kinds, images, netlab features) for the host and image checks.

Kinds and images merge like containerlab does (defaults -> kinds -> groups -> node, most
specific wins). Features come from netlab's per-node variables when they are there:
`host_vars/<node>/topology.json` (or `topology.yml`) beside the clab.yml or in the bundle,
its `module` list (ospf, lag, mpls, vxlan, vrf ...). A bare clab.yml has no features.

A bundle is held as one zlib-compressed copy of each distinct content (read only after
every member was validated), so memory stays close to the bundle's own size.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect
import hashlib
import json
import os
import posixpath
import stat
import tarfile
import zlib

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.lab import bundle
from ansible_collections.skyforge.labs.plugins.module_utils.lab.clab import (
    node_levels, node_names, parse_clab)
from ansible_collections.skyforge.labs.plugins.module_utils.common.yaml_text import load as load_yaml

CLAB_FILE = "clab.yml"
YAML_SUFFIXES = (".yml", ".yaml")
NODE_VARS = ("topology.json", "topology.yml")


KEEP_BYTES = 16 * 1024 * 1024


READ_CHUNK = 256 * 1024


def read_whole(path):
    """A file's bytes through the file descriptor alone: half the cost of open().read()
    for the small files a lab is made of (no buffered file object)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while True:
            chunk = os.read(fd, READ_CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class LabDir(object):
    """Files of a lab directory, read on demand; symlinks must stay inside the lab."""

    def __init__(self, root, clab_file=CLAB_FILE, clab_path=None):
        self.root = os.path.realpath(root)
        self.origin = root
        self.clab_file = clab_file
        # what errors about the topology name: the path the caller gave, when it gave the file
        self.clab_origin = clab_path or "%s in %s" % (clab_file, root)
        self._reals = {}
        self._dirs = {}
        self._stats = {}
        self._kept = {}
        self._kept_bytes = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._reals = {}
        self._dirs = {}
        self._stats = {}
        self._kept = {}
        self._kept_bytes = 0

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
        parent, _sep, leaf = relpath.rpartition("/")
        if not parent or leaf in ("", ".", "..") or parent.endswith("/"):
            return os.path.realpath(os.path.join(self.root, relpath))
        real_parent = self._dirs.get(parent)
        if real_parent is None:
            real_parent = self._dirs[parent] = self._resolve(parent)
        real = real_parent.rstrip("/") + "/" + leaf    # os.path.join for an absolute real_parent
        try:
            info = os.lstat(real)
        except OSError:
            return real         # nothing there: files_at says so
        if stat.S_ISLNK(info.st_mode):
            return os.path.realpath(real)
        self._stats[real] = info    # not a link: what files_at's stat would return
        return real

    def read(self, relpath):
        """The file's bytes. A render reads each file twice (to hash it, then to write its
        ConfigMap): the first KEEP_BYTES of content are kept, which saves the second open
        and read and gives the ConfigMap the very bytes that were hashed."""
        data = self._kept.get(relpath)
        if data is not None:
            return data
        data = read_whole(self._real(relpath))
        if self._kept_bytes + len(data) <= KEEP_BYTES:
            self._kept[relpath] = data
            self._kept_bytes += len(data)
        return data

    def files_at(self, relpath):
        """[(file relpath, normalised mode)] for a file, or every file under a directory;
        None when nothing exists at relpath."""
        real = self._real(relpath)
        try:
            info = self._stats.pop(real, None) or os.stat(real)
        except OSError:
            return None
        if stat.S_ISREG(info.st_mode):
            return [(relpath, bundle.normalise_mode(info.st_mode))]
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

    clab_file = CLAB_FILE

    def __init__(self, path):
        self.origin = "bundle %s" % path
        self.clab_origin = "%s in %s" % (CLAB_FILE, self.origin)
        self._files = {}     # relpath -> (sha256, mode)
        self._blobs = {}     # sha256 -> zlib-compressed content
        try:
            with tarfile.open(path, mode="r:*") as archive:
                members = bundle.validated_members(archive, path)
                for member in members:
                    if member.name in self._files:
                        raise LabError("bundle %s: member %r appears twice; rebuild it with "
                                       "netlab_generate" % (path, member.name))
                    content = archive.extractfile(member).read()
                    sha = hashlib.sha256(content).hexdigest()
                    if sha not in self._blobs:
                        self._blobs[sha] = zlib.compress(content, 1)
                    self._files[member.name] = (sha, bundle.normalise_mode(member.mode))
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
    """A LabDir or LabBundle for src (see the module docstring); use it as a context."""
    if not src:
        raise LabError("no lab given: pass the netlab workdir (holding %s), the lab bundle (.tar.gz) "
                       "or the %s itself" % (CLAB_FILE, CLAB_FILE))
    if os.path.isdir(src):
        if not os.path.isfile(os.path.join(src, CLAB_FILE)):
            raise LabError("directory %s holds no %s; point src at the netlab workdir or the bundle"
                           % (src, CLAB_FILE), path=src)
        return LabDir(src)
    if not os.path.isfile(src):
        raise LabError("src %s does not exist; give the lab bundle (.tar.gz), the directory "
                       "holding %s or the %s itself" % (src, CLAB_FILE, CLAB_FILE), path=src)
    if src.endswith(YAML_SUFFIXES):
        return LabDir(os.path.dirname(os.path.abspath(src)), os.path.basename(src), clab_path=src)
    lab = LabBundle(src)
    if lab.files_at(CLAB_FILE) is None:
        raise LabError("bundle %s has no %s at its root; build it with netlab_generate"
                       % (src, CLAB_FILE), path=src)
    return lab


def read_clab(lab):
    """The parsed containerlab topology of an open lab, and its raw bytes."""
    try:
        raw = lab.read(lab.clab_file)
    except (IOError, OSError) as exc:
        raise LabError("cannot read the containerlab topology %s: %s"
                       % (lab.clab_origin, exc.strerror or exc), path=lab.clab_file)
    return parse_clab(raw, lab.clab_origin), raw


class LabNode(object):
    __slots__ = ("name", "kind", "image", "modules")

    def __init__(self, name, kind, image, modules):
        self.name = name
        self.kind = kind
        self.image = image
        self.modules = modules


def _parse_vars(data, origin):
    try:
        if origin.endswith(".json"):
            return json.loads(data.decode("utf-8"))
        return load_yaml(data)
    except Exception as exc:
        raise LabError("cannot parse netlab node variables %s (%s): regenerate the lab with netlab"
                       % (origin, exc))


def _node_modules(lab, name):
    for leaf in NODE_VARS:
        rel = posixpath.join("host_vars", name, leaf)
        if lab.files_at(rel) is None:
            continue
        data = _parse_vars(lab.read(rel), "%s in %s" % (rel, lab.origin)) or {}
        listed = data.get("module") if isinstance(data, dict) else None
        return sorted(str(m) for m in listed) if isinstance(listed, list) else []
    return []


def lab_nodes(src):
    """[LabNode] for every node of the lab at src (see open_lab), in file order."""
    with open_lab(src) as lab:
        clab, _raw = read_clab(lab)
        nodes = []
        for name in node_names(clab):
            kind = image = None
            for _level, settings in node_levels(clab, name):
                kind = settings.get("kind") or kind
                image = settings.get("image") or image
            nodes.append(LabNode(name, kind, image, _node_modules(lab, name)))
    return nodes
