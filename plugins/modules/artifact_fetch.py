#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: artifact_fetch
short_description: Fetch a file from the lab artifact store, verified
version_added: 0.1.0
author: skyforge.labs team (@skyforge)
description:
  - Copies the content stored under a key to O(dest), checking it against the sha256
    recorded when it was stored and, if given, against O(sha256).
  - The content is written to a temporary file beside O(dest) and renamed into place only
    after it is verified; on a mismatch the task fails and O(dest) is left as it was.
  - When O(dest) already holds the same content the task reports C(changed=false) and
    transfers nothing.
extends_documentation_fragment:
  - skyforge.labs.artifact_store
options:
  key:
    description:
      - The key to fetch.
    type: str
    required: true
  dest:
    description:
      - The file to write. Its directory must exist.
    type: path
    required: true
  sha256:
    description:
      - The sha256 the content must have (hex, optionally prefixed with C(sha256:)).
    type: str
notes:
  - Supports check mode.
'''

EXAMPLES = r'''
- name: Restore a lab bundle
  skyforge.labs.artifact_fetch:
    key: lab1/run-42/bundle.tar.gz
    dest: /tmp/bundle.tar.gz
    sha256: "{{ stored.sha256 }}"
'''

RETURN = r'''
key:
  description: The key fetched.
  returned: success
  type: str
  sample: lab1/run-42/bundle.tar.gz
dest:
  description: The file written.
  returned: success
  type: str
  sample: /tmp/bundle.tar.gz
sha256:
  description: The verified sha256 of the content.
  returned: success
  type: str
  sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
size:
  description: The size in bytes.
  returned: success
  type: int
  sample: 10240
url:
  description: Where the content came from.
  returned: success
  type: str
  sample: file:///srv/artifacts/objects/lab1/run-42/bundle.tar.gz
content_type:
  description: The recorded content type.
  returned: success
  type: str
  sample: application/gzip
metadata:
  description: The recorded metadata.
  returned: success
  type: dict
  sample: {"lab": "lab1"}
stored_at:
  description: When the content was stored (UTC, ISO 8601).
  returned: success
  type: str
  sample: "2026-11-28T01:02:03.000000Z"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.skyforge.labs.plugins.module_utils.artifacts.store import (
    STORE_ARGUMENT_SPEC, fetch_file, store_from_params,
)
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError


def run_module():
    argument_spec = dict(STORE_ARGUMENT_SPEC)
    argument_spec.update(
        key=dict(type="str", required=True, no_log=False),
        dest=dict(type="path", required=True),
        sha256=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        result = fetch_file(store_from_params(params), params["key"], params["dest"], params["sha256"],
                            check_mode=module.check_mode)
    except LabError as exc:
        module.fail_json(msg=exc.message)
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
