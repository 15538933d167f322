# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""netlab's output directory, replaced as a whole or not at all.

netlab records the directory it runs in (and `~/.netlab`) in
group_vars/all/topology.json, so it must run at the real workdir path for its output to
be correct and reproducible: running it in a scratch directory would bake a random path
into the lab. Instead the previous content is moved aside into the workdir's state
directory (renames only), netlab runs in the emptied workdir, and the run either commits
(drop the old content) or rolls back (drop the new content, move the old back). A run
that dies half-way is rolled back by the next one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import os
import shutil

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError

STATE_DIR = ".skyforge-generate"
MARKER = os.path.join(STATE_DIR, "workdir")
PREVIOUS = os.path.join(STATE_DIR, "previous")
HOME = os.path.join(STATE_DIR, "home")
RUN_LOCK = os.path.join(STATE_DIR, "run.lock")
LOCK_FILE = "netlab.lock"


def _entries(directory, skip=(STATE_DIR,)):
    return sorted(name for name in os.listdir(directory) if name not in skip)


def _clear(directory, skip=(STATE_DIR,)):
    for name in _entries(directory, skip):
        path = os.path.join(directory, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)


def _inside(path, directory):
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def check_workdir(workdir, topology):
    """Refuse a workdir we would damage or that would damage the lab; return its real path."""
    workdir = os.path.realpath(workdir)
    topology_dir = os.path.dirname(os.path.realpath(topology))
    if _inside(topology_dir, workdir):
        raise LabError("workdir %s contains the topology directory %s; netlab_generate replaces "
                       "the whole workdir, so use a dedicated directory such as %s"
                       % (workdir, topology_dir, os.path.join(topology_dir, "out")), path=workdir)
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise LabError("workdir %s exists and is not a directory; choose another path" % workdir,
                       path=workdir)
    if os.path.isdir(workdir):
        if os.path.exists(os.path.join(workdir, LOCK_FILE)):
            raise LabError(
                "%s exists: a lab started with `netlab up` from %s is running (or was not shut "
                "down cleanly), and regenerating it would orphan that lab. Run `netlab down "
                "--cleanup` in %s (add --force if the lab is gone), or delete the stale %s if no "
                "lab runs there" % (os.path.join(workdir, LOCK_FILE), workdir, workdir, LOCK_FILE),
                path=workdir)
        ours = os.path.exists(os.path.join(workdir, MARKER))
        if not ours and _entries(workdir):
            raise LabError("workdir %s is not empty and was not created by netlab_generate; it "
                           "would be replaced entirely, so point `workdir` at a new or empty "
                           "directory (or empty this one)" % workdir, path=workdir)
    return workdir


class WorkdirRun(object):
    """Move the old content aside, let netlab write, then commit or roll back."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.previous = os.path.join(workdir, PREVIOUS)
        self.home = os.path.join(workdir, HOME)
        self._lock = None

    def _acquire(self):
        handle = open(os.path.join(self.workdir, RUN_LOCK), "a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (IOError, OSError):
            handle.close()
            raise LabError("another netlab_generate run is using workdir %s; wait for it or use "
                           "a different workdir" % self.workdir, path=self.workdir)
        self._lock = handle

    def _release(self):
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def begin(self):
        os.makedirs(os.path.join(self.workdir, STATE_DIR), exist_ok=True)
        self._acquire()
        try:
            if os.path.isdir(self.previous):       # an earlier run died half-way
                self._restore()
            with open(os.path.join(self.workdir, MARKER), "w") as handle:
                handle.write("managed by skyforge.labs.netlab_generate: the whole directory is "
                             "replaced on every run\n")
            os.makedirs(self.previous)
            for name in _entries(self.workdir):
                os.rename(os.path.join(self.workdir, name), os.path.join(self.previous, name))
            self._fresh_home()
        except BaseException:
            self._release()
            raise

    def _fresh_home(self):
        shutil.rmtree(self.home, ignore_errors=True)
        os.makedirs(self.home)

    def commit(self):
        try:
            shutil.rmtree(self.previous)
            shutil.rmtree(self.home, ignore_errors=True)
        finally:
            self._release()

    def rollback(self):
        try:
            self._restore()
        finally:
            self._release()

    def _restore(self):
        _clear(self.workdir)
        for name in _entries(self.previous, skip=()):
            os.rename(os.path.join(self.previous, name), os.path.join(self.workdir, name))
        os.rmdir(self.previous)
        shutil.rmtree(self.home, ignore_errors=True)
