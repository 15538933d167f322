# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter job_path: a path given as an extra var, made absolute against the job's directory."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.errors import AnsibleFilterError


def job_path(path, base=None):
    if path is None or path == "":
        return ""
    if not isinstance(path, str):
        raise AnsibleFilterError("job_path expects a path string, got %r" % (path,))
    path = os.path.expanduser(path)
    if os.path.isabs(path):
        return os.path.normpath(path)
    return os.path.normpath(os.path.join(base or os.getcwd(), path))


class FilterModule(object):
    def filters(self):
        return {"job_path": job_path}
