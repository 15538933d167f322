# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one exception type module_utils raise for bad input or a failed operation.

The message says what is wrong, where (file, object, field) and how to fix it; modules
pass it to fail_json unchanged.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class LabError(Exception):
    """A user-facing error: what, where, and the remedy, in one message."""

    def __init__(self, message, **details):
        super(LabError, self).__init__(message)
        self.message = message
        self.details = details
