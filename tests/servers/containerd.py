"""Start Debian's containerd as a private daemon for tests and import images into it.

Root, state and sockets live in a short temporary directory (a unix socket path must stay
under 108 bytes); `ctr` reaches the daemon through CONTAINERD_ADDRESS. Images are imported
without unpacking, so no snapshotter or runtime is involved: the image store is what
`image_check` reads.
"""

import os
import shutil
import subprocess
import tarfile
import tempfile
import time

import pytest

from tests.servers.common import read_log, require_tool, stop
from tests.servers.oci_layout import write_layout

CONFIG = """version = 2
root = "{dir}/root"
state = "{dir}/state"
[grpc]
  address = "{dir}/containerd.sock"
[ttrpc]
  address = "{dir}/containerd-ttrpc.sock"
[debug]
  address = ""
[metrics]
  address = ""
"""


def require_containerd():
    require_tool("containerd", "apt-get install -y containerd")
    require_tool("ctr", "apt-get install -y containerd")
    if os.geteuid() != 0:
        message = "containerd needs root to run its image store"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


class Containerd(object):
    def __init__(self, namespace="k8s.io"):
        self.namespace = namespace
        self.dir = None
        self.proc = None

    @property
    def address(self):
        return os.path.join(self.dir, "containerd.sock")

    @property
    def env(self):
        return {"CONTAINERD_ADDRESS": self.address, "CONTAINERD_NAMESPACE": self.namespace}

    def ctr(self, *args):
        return subprocess.run(["ctr", "--address", self.address, "--namespace", self.namespace] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False)

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="ctd-", dir="/tmp")
        config = os.path.join(self.dir, "config.toml")
        with open(config, "w") as handle:
            handle.write(CONFIG.format(dir=self.dir))
        log_path = os.path.join(self.dir, "containerd.log")
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(["containerd", "--config", config], stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while self.ctr("version").returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("containerd did not start:\n%s" % read_log(log_path))
            time.sleep(0.1)
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.proc:
            stop(self.proc)
            self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def import_image(self, name, tag, payload=b"hello\n"):
        """Import a one-layer image as `name:tag`; returns its manifest digest."""
        layout = os.path.join(self.dir, "layout-%s" % tag)
        digest = write_layout(layout, tag, payload)
        archive = layout + ".tar"
        with tarfile.open(archive, "w") as tar:
            for entry in ("oci-layout", "index.json", "blobs"):
                tar.add(os.path.join(layout, entry), arcname=entry)
        out = self.ctr("images", "import", "--no-unpack", "--base-name", name, archive)
        if out.returncode != 0:
            raise RuntimeError("ctr images import failed: %s" % out.stderr.decode()[-2000:])
        return digest
