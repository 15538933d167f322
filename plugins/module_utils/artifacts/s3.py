# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The `s3://bucket/prefix` artifact backend (boto3; any S3-compatible endpoint).

The record lives in the object's user metadata: `sha256`, `skyforge-metadata` (the user
metadata as compact ASCII JSON) and `stored-at`; the content type is the object's
Content-Type. Files bigger than one part go up and come down in parallel parts hashed on
the way (s3_transfer); small files through boto3's managed transfer; either way a
small, fixed number of parts is in flight, so memory stays bounded whatever the size.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json

from ansible_collections.skyforge.labs.plugins.module_utils.artifacts import s3_transfer as transfer
from ansible_collections.skyforge.labs.plugins.module_utils.artifacts.base import (
    Backend, hash_file, metadata_json, record, utc_now,
)
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError

try:
    import boto3
    import botocore.config
    import botocore.exceptions
    from boto3.s3.transfer import TransferConfig
    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None
except ImportError as exc:  # the module reports missing_required_lib
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = exc

PART_SIZE = 16 * 1024 * 1024
CONCURRENCY = 4
# AWS caps user-defined metadata at 2 KiB per object.
MAX_USER_METADATA = 2048


def transfer_config():
    # Memory in flight is about CONCURRENCY * PART_SIZE; max_io_queue bounds the download
    # buffer queue the same way.
    return TransferConfig(multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE,
                          max_concurrency=CONCURRENCY, max_io_queue=CONCURRENCY * 2,
                          io_chunksize=256 * 1024, use_threads=True)


class S3Backend(Backend):

    def __init__(self, bucket, prefix, endpoint_url=None, access_key=None, secret_key=None,
                 region=None, validate_certs=True, session_token=None):
        if not HAS_BOTO3:
            raise LabError("the s3:// artifact store needs boto3 (%s): pip install boto3" % BOTO3_IMPORT_ERROR)
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint_url = endpoint_url
        self.url = "s3://%s/%s" % (bucket, prefix) if prefix else "s3://%s" % bucket
        config = botocore.config.Config(connect_timeout=10, read_timeout=60,
                                        retries={"max_attempts": 3, "mode": "standard"},
                                        s3=dict({"addressing_style": "path"} if endpoint_url else {},
                                                # Over plain http botocore would sha256 every byte sent
                                                # to sign it (over https it never does); the parts carry
                                                # a CRC32 checksum and the file its own sha256 instead.
                                                payload_signing_enabled=False))
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
            aws_session_token=session_token, region_name=region or "us-east-1", verify=validate_certs,
            config=config)

    def key_url(self, key):
        return "s3://%s/%s" % (self.bucket, self.object_key(key))

    def object_key(self, key):
        return "%s/%s" % (self.prefix, key) if self.prefix else key

    def where(self):
        return "%s (endpoint %s)" % (self.url, self.endpoint_url or "AWS default")

    def error(self, exc, action, key=None):
        """A LabError naming what failed, where, and what to do about it."""
        target = ("artifact %s in " % key if key else "") + self.where()
        if isinstance(exc, botocore.exceptions.NoCredentialsError):
            return LabError("cannot %s %s: no S3 credentials; set access_key/secret_key or the AWS_* environment"
                            % (action, target))
        if isinstance(exc, (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError,
                            botocore.exceptions.ReadTimeoutError)):
            return LabError("cannot %s %s: the store is unreachable (%s); check endpoint_url and that the "
                            "S3 service is running" % (action, target, exc))
        if isinstance(exc, botocore.exceptions.SSLError):
            return LabError("cannot %s %s: TLS verification failed (%s); fix the certificate or set "
                            "validate_certs: false for a test endpoint" % (action, target, exc))
        if isinstance(exc, botocore.exceptions.ClientError):
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "NoSuchBucket" or (action == "open" and status == 404):
                return LabError("cannot %s %s: bucket %s does not exist; create it first" % (action, target, self.bucket))
            if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403") or status == 403:
                return LabError("cannot %s %s: access denied (%s); check access_key/secret_key and the bucket "
                                "policy" % (action, target, code or status))
            return LabError("cannot %s %s: S3 error %s (HTTP %s): %s" % (action, target, code, status, exc))
        if isinstance(exc, botocore.exceptions.BotoCoreError):
            return LabError("cannot %s %s: %s" % (action, target, exc))
        return None

    def call(self, action, key, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            error = self.error(exc, action, key)
            if error is None:
                raise
            raise error

    def head(self, key):
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except botocore.exceptions.ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404 and exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                self.check_bucket()
                return None
            raise self.error(exc, "read", key)
        except Exception as exc:
            error = self.error(exc, "read", key)
            if error is None:
                raise
            raise error
        return self.from_head(key, response)

    def check_bucket(self):
        # A HEAD on a missing key and on a missing bucket both answer 404; tell them apart
        # so the user learns the bucket is missing before an upload fails.
        self.call("open", None, self.client.head_bucket, Bucket=self.bucket)

    def from_head(self, key, response):
        meta = response.get("Metadata", {})
        try:
            user = json.loads(meta.get("skyforge-metadata", "{}"))
        except ValueError:
            user = {}
        return record(key, meta.get("sha256"), response.get("ContentLength"), response.get("ContentType"),
                      user, meta.get("stored-at") or self.iso(response.get("LastModified")), self.key_url(key))

    @staticmethod
    def iso(when):
        if when is None:
            return None
        return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def extra_args(self, sha256, content_type, metadata, stored_at):
        user = metadata_json(metadata)
        if len(user) + len(sha256) + len(stored_at) > MAX_USER_METADATA - 64:
            raise LabError("artifact metadata is %d bytes as JSON; S3 allows about 2 KiB of object metadata: "
                           "keep metadata small and store larger data as its own artifact" % len(user))
        return {"ContentType": content_type,
                "Metadata": {"sha256": sha256, "skyforge-metadata": user, "stored-at": stored_at}}

    def put(self, src, key, sha256, size, content_type, metadata):
        stored_at = utc_now()
        if sha256 is None and transfer.hashes_in_flight(size):
            self.extra_args("0" * 64, content_type, metadata, stored_at)   # refuse before sending
            sha256, size = self.call("store", key, transfer.upload_hashed, self.client, src, self.bucket,
                                     self.object_key(key), content_type,
                                     lambda sha: self.extra_args(sha, content_type, metadata, stored_at)["Metadata"])
            return record(key, sha256, size, content_type, metadata, stored_at, self.key_url(key))
        if sha256 is None:  # S3 takes the metadata before the content: hash first
            sha256, size = hash_file(src)
        extra = self.extra_args(sha256, content_type, metadata, stored_at)
        self.call("store", key, self.client.upload_file, src, self.bucket, self.object_key(key),
                  ExtraArgs=extra, Config=transfer_config())
        return record(key, sha256, size, content_type, metadata, stored_at, self.key_url(key))

    def update_record(self, key, current, content_type, metadata):
        stored_at = utc_now()
        extra = self.extra_args(current["sha256"], content_type, metadata, stored_at)
        # A managed copy onto itself rewrites metadata server-side (multipart for big objects).
        self.call("update", key, self.client.copy, {"Bucket": self.bucket, "Key": self.object_key(key)},
                  self.bucket, self.object_key(key), ExtraArgs=dict(extra, MetadataDirective="REPLACE"),
                  Config=transfer_config())
        return dict(current, content_type=content_type, metadata=metadata, stored_at=stored_at)

    def get(self, key, out):
        # into the real file handle: the parts are written in parallel with pwrite
        size = self.call("fetch", key, self.client.head_object, Bucket=self.bucket,
                         Key=self.object_key(key))["ContentLength"]
        return self.call("fetch", key, transfer.download_hashed, self.client, self.bucket, self.object_key(key),
                         size, out.handle)

    def list(self, prefix):
        base = self.object_key("") if self.prefix else ""
        paginator = self.client.get_paginator("list_objects_v2")
        out = []
        pages = self.call("list", None, paginator.paginate, Bucket=self.bucket, Prefix=base + prefix)
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"][len(base):]
                    rec = self.head(key)
                    if rec is not None:
                        out.append(rec)
        except Exception as exc:
            error = self.error(exc, "list", None)
            if error is None:
                raise
            raise error
        return sorted(out, key=lambda r: r["key"])
