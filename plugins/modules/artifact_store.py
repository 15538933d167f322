#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: artifact_store
short_description: Store a file in the lab artifact store
version_added: 0.1.0
author: skyforge.labs team (@skyforge)
description:
  - Stores one file under a key (for example C(<lab>/<run>/<name>)) in a C(file://) or
    C(s3://) artifact store and records its sha256, size, content type and metadata.
  - The file is streamed; memory stays flat whatever its size.
  - Storing the same content with the same content type and metadata again reports
    C(changed=false) and transfers nothing.
extends_documentation_fragment:
  - skyforge.labs.artifact_store
options:
  src:
    description:
      - The file to store, on the host that runs the module.
    type: path
    required: true
  key:
    description:
      - The key to store it under. Relative, C(/)-separated, with no empty, C(.) or C(..)
        segments, no segment starting or ending with white space, no backslashes and no
        non-printing characters (control, zero-width or bidi characters).
    type: str
    required: true
  metadata:
    description:
      - Extra information to record with the file. Values are stored as strings.
    type: dict
    default: {}
  content_type:
    description:
      - The MIME type to record.
    type: str
    default: application/octet-stream
notes:
  - Supports check mode.
'''

EXAMPLES = r'''
- name: Keep the lab bundle of this run
  skyforge.labs.artifact_store:
    src: "{{ lab_workdir }}/bundle.tar.gz"
    key: "{{ lab_name }}/{{ run_id }}/bundle.tar.gz"
    content_type: application/gzip
    metadata:
      lab: "{{ lab_name }}"

- name: The same in a shared S3 bucket
  skyforge.labs.artifact_store:
    store: s3://lab-artifacts/skyforge
    endpoint_url: https://s3.example.net
    access_key: "{{ s3_access_key }}"
    secret_key: "{{ s3_secret_key }}"
    src: "{{ lab_workdir }}/bundle.tar.gz"
    key: "{{ lab_name }}/{{ run_id }}/bundle.tar.gz"
'''

RETURN = r'''
key:
  description: The key the file is stored under.
  returned: success
  type: str
  sample: lab1/run-42/bundle.tar.gz
sha256:
  description: The sha256 of the stored content.
  returned: success
  type: str
  sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
size:
  description: The size of the stored content in bytes.
  returned: success
  type: int
  sample: 10240
url:
  description: Where the content is, as a C(file://) or C(s3://) URL.
  returned: success
  type: str
  sample: s3://lab-artifacts/skyforge/lab1/run-42/bundle.tar.gz
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
  description: When the record was written (UTC, ISO 8601); null in check mode for new content.
  returned: success
  type: str
  sample: "2026-11-28T01:02:03.000000Z"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.skyforge.labs.plugins.module_utils.artifacts.store import (
    STORE_ARGUMENT_SPEC, store_file, store_from_params,
)
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError


def run_module():
    argument_spec = dict(STORE_ARGUMENT_SPEC)
    argument_spec.update(
        src=dict(type="path", required=True),
        key=dict(type="str", required=True, no_log=False),
        metadata=dict(type="dict", default={}),
        content_type=dict(type="str", default="application/octet-stream"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        result = store_file(store_from_params(params), params["src"], params["key"], params["metadata"],
                            params["content_type"], check_mode=module.check_mode)
    except LabError as exc:
        module.fail_json(msg=exc.message)
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
