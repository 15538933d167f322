#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: artifact_info
short_description: List what the lab artifact store holds
version_added: 0.1.0
author: skyforge.labs team (@skyforge)
description:
  - Lists the keys that start with O(prefix), with the sha256, size, content type,
    metadata and time recorded for each, sorted by key.
extends_documentation_fragment:
  - skyforge.labs.artifact_store
options:
  prefix:
    description:
      - Only keys starting with this string. Use a trailing C(/) to list one lab or run
        (C(lab1/) does not match C(lab10/...)). Empty lists everything.
    type: str
    default: ''
notes:
  - Supports check mode.
'''

EXAMPLES = r'''
- name: What did the runs of lab1 keep?
  skyforge.labs.artifact_info:
    prefix: lab1/
  register: kept
'''

RETURN = r'''
artifacts:
  description: One entry per key, sorted by key.
  returned: success
  type: list
  elements: dict
  contains:
    key:
      description: The key.
      type: str
      sample: lab1/run-42/bundle.tar.gz
    sha256:
      description: The recorded sha256.
      type: str
      sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    size:
      description: Size in bytes.
      type: int
      sample: 10240
    content_type:
      description: The recorded content type.
      type: str
      sample: application/gzip
    metadata:
      description: The recorded metadata.
      type: dict
      sample: {"lab": "lab1"}
    stored_at:
      description: When it was stored (UTC, ISO 8601).
      type: str
      sample: "2026-11-28T01:02:03.000000Z"
    url:
      description: Where the content is.
      type: str
      sample: s3://lab-artifacts/lab1/run-42/bundle.tar.gz
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.skyforge.labs.plugins.module_utils.artifacts.store import (
    STORE_ARGUMENT_SPEC, list_artifacts, store_from_params,
)
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError


def run_module():
    argument_spec = dict(STORE_ARGUMENT_SPEC)
    argument_spec.update(prefix=dict(type="str", default=""))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        found = list_artifacts(store_from_params(module.params), module.params["prefix"])
    except LabError as exc:
        module.fail_json(msg=exc.message)
    module.exit_json(changed=False, artifacts=found)


def main():
    run_module()


if __name__ == "__main__":
    main()
