"""Private container runtime daemons for tests: Debian's containerd and dockerd.

Each daemon keeps its root, state and sockets in a short temporary directory (a unix socket
path must stay under 108 bytes) and is reached through its environment variable
(CONTAINERD_ADDRESS, DOCKER_HOST), the way a user points `ctr` or `docker` elsewhere.
Nothing touches the host's own /run/containerd or /var/lib/docker.
"""

import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import time

from tests.ci import unavailable
from tests.servers.common import read_log, require_tool, stop
from tests.servers.oci_layout import write_layout

CONTAINERD_CONFIG = """version = 2
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


def require_runtime(daemon, client, package):
    require_tool(daemon, "apt-get install -y %s" % package)
    require_tool(client, "apt-get install -y %s" % package)
    if os.geteuid() != 0:
        unavailable("%s needs root to run its image store" % daemon)


def _run(argv, env=None):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, check=False,
                          env=dict(os.environ, **(env or {})))


class _Daemon(object):
    name = None

    def __init__(self):
        self.dir = None
        self.proc = None

    def argv(self):
        raise NotImplementedError

    def ready(self):
        raise NotImplementedError

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="%s-" % self.name[:3], dir="/tmp")
        log_path = os.path.join(self.dir, "%s.log" % self.name)
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not self.ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log_text = read_log(log_path)
                self.stop()
                raise RuntimeError("%s did not start:\n%s" % (self.name, log_text))
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


class Containerd(_Daemon):
    """containerd; images are imported without unpacking, so no snapshotter or runc is
    involved: the image store is what `image_check` reads."""

    name = "containerd"

    def __init__(self, namespace="k8s.io"):
        super(Containerd, self).__init__()
        self.namespace = namespace

    @property
    def env(self):
        return {"CONTAINERD_ADDRESS": os.path.join(self.dir, "containerd.sock"),
                "CONTAINERD_NAMESPACE": self.namespace}

    def argv(self):
        config = os.path.join(self.dir, "config.toml")
        with open(config, "w") as handle:
            handle.write(CONTAINERD_CONFIG.format(dir=self.dir))
        return ["containerd", "--config", config]

    def ready(self):
        return _run(["ctr", "version"], self.env).returncode == 0

    def import_image(self, name, tag, payload=b"hello\n"):
        """Import a one-layer OCI image as `name:tag`; returns its manifest digest."""
        layout = os.path.join(self.dir, "layout-%s" % tag)
        digest = write_layout(layout, tag, payload)
        archive = layout + ".tar"
        with tarfile.open(archive, "w") as tar:
            for entry in ("oci-layout", "index.json", "blobs"):
                tar.add(os.path.join(layout, entry), arcname=entry)
        out = _run(["ctr", "images", "import", "--no-unpack", "--base-name", name, archive], self.env)
        if out.returncode != 0:
            raise RuntimeError("ctr images import failed: %s" % out.stderr.decode()[-2000:])
        return digest


class Dockerd(_Daemon):
    """dockerd with no networking of its own (no bridge, no iptables) and the vfs storage
    driver, which needs no kernel support; it starts its own managed containerd."""

    name = "dockerd"

    @property
    def env(self):
        return {"DOCKER_HOST": "unix://" + os.path.join(self.dir, "docker.sock")}

    def argv(self):
        return ["dockerd", "--data-root", os.path.join(self.dir, "data"),
                "--exec-root", os.path.join(self.dir, "exec"), "--pidfile", os.path.join(self.dir, "docker.pid"),
                "--host", self.env["DOCKER_HOST"], "--iptables=false", "--ip6tables=false",
                "--bridge=none", "--storage-driver=vfs"]

    def ready(self):
        return _run(["docker", "version", "--format", "{{.Server.Version}}"], self.env).returncode == 0

    def import_rootfs(self, reference, payload=b"hello\n"):
        """`docker image import` a one-file root filesystem as `reference`, the way a cEOS
        image is brought in by hand; returns the image ID."""
        archive = os.path.join(self.dir, "rootfs.tar")
        with tarfile.open(archive, "w") as tar:
            info = tarfile.TarInfo("hello.txt")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
        out = _run(["docker", "image", "import", archive, reference], self.env)
        if out.returncode != 0:
            raise RuntimeError("docker image import failed: %s" % out.stderr.decode()[-2000:])
        return out.stdout.decode().strip()
