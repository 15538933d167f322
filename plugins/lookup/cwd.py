# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: cwd
author: skyforge.labs team (@skyforge)
short_description: The directory ansible-playbook was started in
version_added: "0.1.0"
description:
  - Returns the working directory of the controller process, which is where
    C(ansible-playbook) was started. Tasks run in the playbook's directory and the E(PWD)
    variable is only set by shells, so neither tells it when a job is started by
    ansible-runner, AWX or another program.
  - The collection's playbooks resolve relative paths given as extra vars against it.
notes:
  - Takes no terms.
'''

EXAMPLES = r'''
- name: Resolve a relative path the way the user meant it
  ansible.builtin.set_fact:
    topology_path: "{{ topology if topology is abs else lookup('skyforge.labs.cwd') ~ '/' ~ topology }}"
'''

RETURN = r'''
_raw:
  description: The absolute path of the controller's working directory.
  type: list
  elements: str
'''

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        if terms:
            raise AnsibleLookupError("skyforge.labs.cwd takes no terms, got %r" % (terms,))
        return [os.getcwd()]
