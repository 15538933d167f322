# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The store options shared by artifact_store, artifact_fetch and artifact_info."""

    DOCUMENTATION = r'''
options:
  store:
    description:
      - Where artifacts live, as a URL.
      - C(file:///abs/path) or C(file://./relative/path) for a directory on the host that runs
        the module. Content is kept under C(objects/<key>), the record (sha256, size,
        content_type, metadata, stored_at) beside it under C(records/<key>.json). Writes go to
        a temporary file and are renamed into place.
      - C(s3://bucket) or C(s3://bucket/prefix) for any S3-compatible store. The record is kept
        in the object's user metadata (C(sha256), C(skyforge-metadata), C(stored-at)); the
        bucket must exist.
    type: str
    default: file://./.artifacts
  endpoint_url:
    description:
      - S3 endpoint for S3-compatible servers (MinIO, versitygw, Ceph RGW...). Omit for AWS.
    type: str
  access_key:
    description:
      - S3 access key. Omit to use the AWS_* environment or instance credentials.
    type: str
  secret_key:
    description:
      - S3 secret key.
    type: str
  session_token:
    description:
      - S3 session token for temporary credentials.
    type: str
  region:
    description:
      - S3 region; defaults to C(us-east-1).
    type: str
  validate_certs:
    description:
      - Verify the S3 endpoint's TLS certificate.
    type: bool
    default: true
requirements:
  - boto3 (only for C(s3://) stores)
'''
