# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deterministic lab bundles (.tar.gz) and safe reading of them.

Same files in => byte-identical archive out: entries sorted, mtime 0, uid/gid 0, empty
owner names, modes normalised to 0644/0755, no directory entries, gzip header mtime 0
and no file name. Reading validates every member before anything is used.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import gzip
import io
import os
import posixpath
import stat
import tarfile
import zlib

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError

BUNDLE_MANIFEST = "manifest.json"
MAX_MEMBER_BYTES = 512 * 1024 * 1024
MAX_BUNDLE_BYTES = 2 * 1024 * 1024 * 1024
MAX_MEMBERS = 200000


def normalise_mode(mode):
    """0o755 when any execute bit is set, else 0o644."""
    return 0o755 if mode & 0o111 else 0o644


def _excluded(relpath, exclude):
    return any(relpath == pattern or fnmatch.fnmatchcase(relpath, pattern)
               or relpath.startswith(pattern.rstrip("/") + "/") for pattern in exclude)


def collect_tree(directory, exclude=()):
    """Map every regular file under directory (posix relpath) to (content, normalised mode).

    Symlinks are followed when they resolve inside the tree; one that points outside is an
    error, because the lab would silently depend on a file the bundle cannot carry.
    """
    root = os.path.realpath(directory)
    if not os.path.isdir(root):
        raise LabError("lab directory %s does not exist or is not a directory" % directory)
    files = {}
    for current, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames) + [d for d in dirnames if os.path.islink(os.path.join(current, d))]:
            full = os.path.join(current, name)
            relpath = os.path.relpath(full, root).replace(os.sep, "/")
            if _excluded(relpath, exclude):
                continue
            real = os.path.realpath(full)
            if real != full and not real.startswith(root + os.sep):
                raise LabError(
                    "%s in %s is a link to %s, outside the lab directory; copy the file into "
                    "the lab instead of linking it" % (relpath, directory, real))
            info = os.stat(real)
            if stat.S_ISDIR(info.st_mode):
                continue
            if not stat.S_ISREG(info.st_mode):
                raise LabError("%s in %s is not a regular file; remove it from the lab directory"
                               % (relpath, directory))
            with open(real, "rb") as handle:
                files[relpath] = (handle.read(), normalise_mode(info.st_mode))
    return files


def _tar_bytes(files):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for relpath in sorted(files):
            data, mode = files[relpath]
            _check_member_name(relpath, "the file set to bundle")
            info = tarfile.TarInfo(relpath)
            info.size = len(data)
            info.mode = normalise_mode(mode)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.type = tarfile.REGTYPE
            archive.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def bundle_bytes(files):
    """The deterministic .tar.gz bytes of files ({relpath: (content, mode)})."""
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6) as gz:
        gz.write(_tar_bytes(files))
    return out.getvalue()


def _check_member_name(name, where):
    if not name or name.startswith("/") or name.startswith("\\") or "\\" in name:
        raise LabError("%s: member %r has an absolute or non-POSIX path; bundles may only hold "
                       "relative paths — rebuild it with netlab_generate" % (where, name))
    normal = posixpath.normpath(name)
    if normal != name.rstrip("/") or normal == ".." or normal.startswith("../") or "/../" in name:
        raise LabError("%s: member %r escapes the bundle (contains '..' or is not normalised); "
                       "refusing to read it — rebuild the bundle with netlab_generate" % (where, name))
    if any(ord(char) < 32 for char in name):
        raise LabError("%s: member %r has control characters in its name" % (where, name))


def validated_members(archive, path):
    """The regular-file members of an open archive, after checking every member of it.

    Raises LabError for the first member that is absolute, escapes with '..', is a link,
    device or fifo, or is over the size caps; directories are skipped.
    """
    members = []
    total = 0
    for member in archive:
        if len(members) >= MAX_MEMBERS:
            raise LabError("bundle %s has more than %d members; that is not a lab bundle" % (path, MAX_MEMBERS))
        _check_member_name(member.name, "bundle %s" % path)
        if member.isdir():
            continue
        if not member.isreg():
            kind = "link" if (member.issym() or member.islnk()) else "device or special file"
            raise LabError("bundle %s: member %r is a %s; bundles may only hold regular files — "
                           "rebuild it with netlab_generate" % (path, member.name, kind))
        if member.size > MAX_MEMBER_BYTES:
            raise LabError("bundle %s: member %r is %d bytes, over the %d byte limit per file"
                           % (path, member.name, member.size, MAX_MEMBER_BYTES))
        total += member.size
        if total > MAX_BUNDLE_BYTES:
            raise LabError("bundle %s unpacks to more than %d bytes; refusing to read it"
                           % (path, MAX_BUNDLE_BYTES))
        members.append(member)
    return members


def read_bundle(path):
    """Return {relpath: (content, mode)} after validating every member of the archive."""
    if not os.path.isfile(path):
        raise LabError("bundle %s does not exist; run netlab_generate first or fix the path" % path)
    try:
        with tarfile.open(path, mode="r:*") as archive:
            members = validated_members(archive, path)
            files = {}
            for member in members:
                if member.name in files:
                    raise LabError("bundle %s: member %r appears twice" % (path, member.name))
                files[member.name] = (archive.extractfile(member).read(), normalise_mode(member.mode))
            return files
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise LabError("bundle %s is not a readable .tar.gz (%s); rebuild it with netlab_generate"
                       % (path, exc))
