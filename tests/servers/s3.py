"""Start a real S3-compatible server (versitygw, POSIX backend) on 127.0.0.1 for tests.

The binary is built from the Go module proxy by build_s3.sh and cached under
~/.cache/skyforge-labs/bin.
"""

import os
import subprocess

from tests.servers.common import free_port, start, stop

HERE = os.path.dirname(os.path.abspath(__file__))
ACCESS_KEY = "skyforge-test"
SECRET_KEY = "skyforge-test-secret-key"


def versitygw_binary():
    """Path of the cached versitygw, building it when missing (Go required)."""
    out = subprocess.run(["bash", os.path.join(HERE, "build_s3.sh")], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=1800, check=False)
    if out.returncode != 0:
        raise RuntimeError("build_s3.sh failed (%d): %s" % (out.returncode, out.stderr.decode()[-3000:]))
    return out.stdout.decode().strip().splitlines()[-1]


class S3Server(object):
    """versitygw serving `<tmp>/data` (buckets are its directories)."""

    def __init__(self, workdir, buckets=("artifacts",)):
        self.workdir = workdir
        self.data = os.path.join(workdir, "data")
        self.buckets = buckets
        self.port = None
        self.proc = None

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def __enter__(self):
        binary = versitygw_binary()
        os.makedirs(self.data, exist_ok=True)
        for bucket in self.buckets:
            os.makedirs(os.path.join(self.data, bucket), exist_ok=True)
        self.port = free_port()
        self.proc = start([binary, "--port", "127.0.0.1:%d" % self.port, "--access", ACCESS_KEY,
                           "--secret", SECRET_KEY, "posix", self.data],
                          os.path.join(self.workdir, "versitygw.log"), self.port)
        return self

    def __exit__(self, *exc):
        stop(self.proc)

    def client(self):
        import boto3
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, region_name="us-east-1")

    def options(self):
        return {"endpoint_url": self.endpoint, "access_key": ACCESS_KEY, "secret_key": SECRET_KEY,
                "region": "us-east-1"}
