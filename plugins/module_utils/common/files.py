# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whole-or-nothing file writes, and sha256 of files.

The one guarantee every writer in the collection gives: the content goes to a temporary
file in the target's directory, is flushed and fsync'ed, gets its mode, and is renamed over
the target; then the directory is fsync'ed. A reader (or a crash at any point) sees the old
file or the complete new one, never a part; on an error the target is left as it was and
the temporary file is removed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import tempfile

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError

CHUNK = 1024 * 1024


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class AtomicFile(object):
    """A temporary file beside `path` that replaces it on commit(); use as a context.

    Leaving the context commits, unless discard() was called or an exception is leaving
    it (then the temporary file is removed and `path` is untouched). write() keeps the
    sha256 and size of what was written, so callers can decide without reading it back.
    """

    def __init__(self, path, mode=0o644):
        self.path = path
        self.mode = mode
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.directory = os.path.dirname(os.path.abspath(path))
        try:
            os.makedirs(self.directory, exist_ok=True)
            fd, self.tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp",
                                            dir=self.directory)
        except (IOError, OSError) as exc:
            raise LabError("cannot write into %s: %s; check that the directory exists and is writable"
                           % (self.directory, exc.strerror or exc), path=path)
        self.handle = os.fdopen(fd, "wb")
        self.done = False

    def write(self, data):
        self.sha256.update(data)
        self.size += len(data)
        self.handle.write(data)

    def fileno(self):
        return self.handle.fileno()

    def hexdigest(self):
        return self.sha256.hexdigest()

    def commit(self):
        """Flush, fsync, chmod, rename over the target, fsync the directory."""
        if self.done:
            return
        try:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
            os.chmod(self.tmp, self.mode)
            os.replace(self.tmp, self.path)
        except BaseException:
            self.discard()
            raise
        self.done = True
        _fsync_dir(self.directory)

    def discard(self):
        """Drop the temporary file; the target stays as it was."""
        if self.done:
            return
        self.done = True
        self.handle.close()
        try:
            os.unlink(self.tmp)
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on a directory; the rename still happened
        pass
    finally:
        os.close(fd)


def atomic_write(path, data, mode=0o644):
    """Write bytes to path whole-or-nothing (see the module docstring); return their sha256."""
    with AtomicFile(path, mode) as out:
        out.write(data)
    return out.hexdigest()
