# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""S3 multipart transfers that compute the file's sha256 during the transfer.

Upload: CONCURRENCY threads each send one part at a time, reading its own byte range of
the file (os.pread: no shared file position), while the calling thread hashes the file
from start to end (hashlib and file reads release the GIL, so both run at once).  S3
takes user metadata only when an upload starts, so once the parts are in, the record
(sha256, stored-at, metadata) is set by copying the object onto itself with
MetadataDirective REPLACE: one request, done inside the store (S3 CopyObject allows up to
5 GiB that way; bigger files are hashed first, as before).  Until that copy the object
has no sha256: a fetch in that window refuses it as unverified, a store sends it again.

Download: ranged GETs from CONCURRENCY threads write their parts into the file
(os.pwrite); the calling thread hashes each part, in order, as soon as it is complete
(read back while it is still in the page cache), so the verification overlaps the
transfer instead of following it.

Memory: parts are streamed from the file (botocore reads them for signing, checksum and
sending), so each thread holds read buffers, never a part.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import io
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError

PART_SIZE = 8 * 1024 * 1024
CONCURRENCY = 10      # boto3's default
MAX_PARTS = 10000
COPY_IN_PLACE_MAX = 5 * 1024 ** 3
READ_CHUNK = 1024 * 1024
STREAM_CHUNK = 1024 * 1024
RECORD_TIMEOUT = 300     # seconds a completed upload may take to become the object (copy_record)


def part_ranges(size, part_size=None):
    """[(offset, length)] covering size bytes in at most MAX_PARTS parts."""
    part_size = part_size or PART_SIZE
    part_size = max(part_size, -(-size // MAX_PARTS))
    return [(offset, min(part_size, size - offset)) for offset in range(0, size, part_size)]


def hashes_in_flight(size):
    """True when upload_hashed can take a file of this size (else hash first)."""
    return PART_SIZE < size <= COPY_IN_PLACE_MAX


def _hash_range(fd, digest, offset, length):
    end = offset + length
    while offset < end:
        chunk = os.pread(fd, min(READ_CHUNK, end - offset), offset)
        if not chunk:
            raise IOError("file shrank while being transferred")
        digest.update(chunk)
        offset += len(chunk)


class _Range(io.RawIOBase):
    """A seekable, read-only view of bytes [offset, offset + length) of a file descriptor,
    so botocore streams a part (signing, checksum, sending) instead of holding it."""

    def __init__(self, fd, offset, length):
        super(_Range, self).__init__()
        self._fd = fd
        self._start = offset
        self._length = length
        self._pos = 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._pos

    def seek(self, pos, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        self._pos = max(0, min(self._length, base + pos))
        return self._pos

    def __len__(self):
        return self._length

    def read(self, size=-1):
        left = self._length - self._pos
        size = left if size is None or size < 0 else min(size, left)
        if size <= 0:
            return b""
        data = os.pread(self._fd, size, self._start + self._pos)
        if not data:
            raise IOError("file shrank while being uploaded")
        self._pos += len(data)
        return data

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


class _Failed(object):
    """First error raised by a worker; the others stop early once it is set."""

    def __init__(self):
        self.event = threading.Event()


def upload_hashed(client, path, bucket, key, content_type, metadata_for):
    """Upload `path` to bucket/key in parallel parts while hashing it.

    metadata_for(sha256) gives the object's user metadata; returns (sha256, size)."""
    size = os.path.getsize(path)
    failed = _Failed()
    upload = client.create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type)
    upload_id = upload["UploadId"]
    algorithm = upload.get("ChecksumAlgorithm")
    fd = os.open(path, os.O_RDONLY)
    try:
        def send(number, offset, length):
            if failed.event.is_set():
                return None
            try:
                answer = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                                            Body=_Range(fd, offset, length), ContentLength=length)
            except BaseException:
                failed.event.set()
                raise
            part = {"PartNumber": number, "ETag": answer["ETag"]}
            if algorithm:   # an upload started with a checksum algorithm needs each part's
                part.update((k, v) for k, v in answer.items() if k == "Checksum" + algorithm)
            return part

        digest = hashlib.sha256()
        with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
            futures = [pool.submit(send, number, offset, length)
                       for number, (offset, length) in enumerate(part_ranges(size), 1)]
            try:
                _hash_range(fd, digest, 0, size)
            except BaseException:
                failed.event.set()
                raise
            parts = [future.result() for future in futures]
        completed = client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                                     MultipartUpload={"Parts": parts})
    except BaseException:
        try:
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except Exception:   # the original error is the one to report
            pass
        raise
    finally:
        os.close(fd)
    sha256 = digest.hexdigest()
    copy_record(client, bucket, key, completed.get("ETag"), content_type, metadata_for(sha256))
    return sha256, size


def _error_code(exc):
    return (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")


def copy_record(client, bucket, key, etag, content_type, metadata, timeout=None, sleep=time.sleep):
    """Set the record by copying the object onto itself, once the object under `key` is
    the one just completed (its ETag; the copy also asks CopySourceIfMatch, for stores
    that honour it). A CompleteMultipartUpload that outlives the client's read timeout is
    retried by botocore, and the store may answer the retry before the object is in place
    (seen with versitygw on a slow disk: the copy found no object); so a missing object,
    or another one still there, is waited for, up to `timeout` seconds, never recorded."""
    deadline = time.monotonic() + (RECORD_TIMEOUT if timeout is None else timeout)
    delay = 0.1
    while True:
        try:
            found = client.head_object(Bucket=bucket, Key=key).get("ETag")
        except Exception as exc:
            if _error_code(exc) not in ("NoSuchKey", "404", "NotFound"):
                raise
            found = None
        if found is not None and (not etag or found == etag):
            try:
                return client.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                                          MetadataDirective="REPLACE", ContentType=content_type, Metadata=metadata,
                                          **({"CopySourceIfMatch": etag} if etag else {}))
            except Exception as exc:
                if _error_code(exc) not in ("NoSuchKey", "404", "PreconditionFailed", "412"):
                    raise
        if time.monotonic() + delay > deadline:
            raise LabError("the upload of %s/%s completed (ETag %s) but the store %s after %d s; its record "
                           "(sha256) was not written: store the file again"
                           % (bucket, key, etag, "still shows another object (ETag %s)" % found if found
                              else "has no object there", timeout if timeout is not None else RECORD_TIMEOUT))
        sleep(delay)
        delay = min(delay * 2, 5.0)


def download_hashed(client, bucket, key, size, handle):
    """Download bucket/key (`size` bytes, from its record) into the open file `handle` in
    parallel ranged parts, hashing each part in order once written; returns (sha256, size)
    of what was written."""
    fd = handle.fileno()
    failed = _Failed()

    def fetch(offset, length):
        if failed.event.is_set():
            return 0
        try:
            answer = client.get_object(Bucket=bucket, Key=key, Range="bytes=%d-%d" % (offset, offset + length - 1))
            body = answer["Body"]
            written = 0
            while True:
                chunk = body.read(STREAM_CHUNK)
                if not chunk:
                    break
                os.pwrite(fd, chunk, offset + written)
                written += len(chunk)
            return written
        except BaseException:
            failed.event.set()
            raise

    digest = hashlib.sha256()
    total = 0
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        try:
            ranges = part_ranges(size)
            futures = [pool.submit(fetch, offset, length) for offset, length in ranges]
            for (offset, length), future in zip(ranges, futures):
                written = future.result()
                _hash_range(fd, digest, offset, min(written, length))
                total += written
                if written != length:   # the object changed size: the caller reports it
                    break
        except BaseException:
            failed.event.set()
            raise
    return digest.hexdigest(), total
