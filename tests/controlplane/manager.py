# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the real Clabernetes manager beside a test kube-apiserver.

    python tests/controlplane/manager.py up --dir .cluster --version v0.6   # after cluster.py up
    python tests/controlplane/manager.py down --dir .cluster

From Python (pytest fixtures):

    mgr = Manager(control_plane, "v0.6").start()
    mgr.api_version, mgr.log_path, mgr.log_offset(), mgr.critical_lines(since)
    mgr.stop()

The manager only knows in-cluster configuration. It gets it without touching the host:
a wrapper script runs inside `unshare --mount --propagation private`, mounts a tmpfs root
holding tmpfs mounts at /var/run/secrets/kubernetes.io/serviceaccount (token, ca.crt,
namespace) and /clabernetes (its TLS certificates), binds the binary, /dev and /proc in,
and chroots there. Neither /clabernetes nor /var/run/secrets exists on the host (creating
a mount point would write there), hence the private root. The mount namespace dies with
the manager, so nothing stays mounted.

It listens on the fixed port 10443 (`GET /alive`), so one manager runs per machine: an
exclusive lock file held by the manager process itself (its file descriptor is inherited)
says who runs; a second start fails naming the holder.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import datetime
import errno
import fcntl
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
if __name__ == "__main__":  # `python tests/controlplane/manager.py` from the repo root
    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from tests.controlplane.cluster import ControlPlane, ControlPlaneError, _write  # noqa: E402

# label_prefix: the controller's labels on what it creates (<prefix>/topologyOwner, .../topologyNode)
GENERATIONS = {
    "v0.6": {"api_version": "clabernetes.containerlab.dev/v1alpha1", "group": "clabernetes.containerlab.dev",
             "label_prefix": "clabernetes"},
    "v0.8": {"api_version": "c9s.run/v1alpha1", "group": "c9s.run", "label_prefix": "c9s.run"},
}
APP_NAME = "clabernetes"
MANAGER_NAMESPACE = "clabernetes-system"
ALIVE_PORT = 10443
ALIVE_URL = "https://127.0.0.1:%d/alive" % ALIVE_PORT
LOCK_PATH = os.environ.get("SKYFORGE_MANAGER_LOCK", "/tmp/skyforge-clabernetes-manager.lock")
STATE_FILE = "manager.json"
LAUNCHER_IMAGE = "ghcr.io/srl-labs/clabernetes/clabernetes-launcher:skyforge-test"
# klog-style and clabernetes' own logger both mark severity; definition and reconcile
# failures are logged as CRITICAL by the topology controller.
_CRITICAL = re.compile(r"^\s*(CRITICAL|FATAL)\b")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

WRAPPER = r"""#!/bin/sh
# Runs inside `unshare --mount --propagation private`: every mount below lives only in this
# private mount namespace and disappears with the manager process.
set -eu
root=$1 files=$2 binary=$3
mount -t tmpfs -o mode=0755,size=16m skyforge-c9s-root "$root"
sa="$root/var/run/secrets/kubernetes.io/serviceaccount"
mkdir -p "$root/clabernetes" "$sa" "$root/dev" "$root/proc" "$root/tmp" "$root/usr/local/bin"
mount -t tmpfs -o mode=0755,size=16m skyforge-c9s-clabernetes "$root/clabernetes"
mount -t tmpfs -o mode=0755,size=1m skyforge-c9s-serviceaccount "$sa"
mount -t tmpfs -o mode=1777,size=64m skyforge-c9s-tmp "$root/tmp"
cp -R "$files/certificates" "$root/clabernetes/certificates"
cp "$files/serviceaccount/token" "$files/serviceaccount/ca.crt" "$files/serviceaccount/namespace" "$sa/"
chmod 0644 "$sa/ca.crt" "$sa/namespace"
chmod 0600 "$sa/token"
: > "$root/usr/local/bin/clabernetes"
mount --bind "$binary" "$root/usr/local/bin/clabernetes"
mount --rbind /dev "$root/dev"
mount --rbind /proc "$root/proc"
echo "skyforge wrapper: private root ready, starting the manager" >&2
exec chroot "$root" /usr/local/bin/clabernetes run
"""


class ManagerError(RuntimeError):
    """The manager could not be built, started, reached or stopped."""


class ManagerUnavailable(ManagerError):
    """The manager for this generation cannot be built here (Go missing, module not served).

    `refused` is true when the Go module proxy refuses the module (a fact about the proxy,
    not this machine); false when Go itself is missing."""

    def __init__(self, message, generation=None, refused=False):
        super(ManagerUnavailable, self).__init__(message)
        self.generation = generation
        self.refused = refused


def build(generation):
    """build_manager.sh for one generation (cached: quick when built); returns the binary."""
    proc = subprocess.run(
        ["bash", os.path.join(HERE, "build_manager.sh"), generation],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True, check=False,
    )
    if proc.returncode in (3, 4):
        raise ManagerUnavailable("the Clabernetes manager %s cannot be built here: %s" % (
            generation, " ".join(proc.stderr.split())[-1500:]), generation, refused=proc.returncode == 4)
    if proc.returncode != 0:
        raise ManagerError("tests/controlplane/build_manager.sh %s failed (exit %d):\n%s" % (
            generation, proc.returncode, proc.stderr[-4000:]))
    return proc.stdout.strip().splitlines()[-1]


def _certificates(directory):
    """CA + one serving/client certificate for 127.0.0.1, in the layout the manager reads:
    <dir>/{ca,client,webhook}/{ca.crt,tls.crt,tls.key} (what `run --initializer` would put
    in the clabernetes-certificate Secret)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    later = now + datetime.timedelta(days=30)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"clabernetes-test-ca")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(later)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"clabernetes")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(later)
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName(u"localhost"), x509.IPAddress(ipaddress.ip_address(u"127.0.0.1"))]),
                critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    ca_pem = ca.public_bytes(pem)
    files = {
        "ca.crt": ca_pem,
        "tls.crt": leaf.public_bytes(pem),
        "tls.key": key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    }
    for sub in ("ca", "client", "webhook"):
        os.makedirs(os.path.join(directory, sub), exist_ok=True)
        for name, data in files.items():
            _write(os.path.join(directory, sub, name), data)
    return os.path.join(directory, "ca", "ca.crt")


def _proc_alive(pid, marker):
    """pid runs, is not a zombie, and its command line mentions marker (guards pid reuse)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            cmdline = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
        with open("/proc/%d/stat" % pid) as handle:
            if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
    except (IOError, OSError, IndexError):
        return False
    return marker in cmdline


def _die_with_parent():
    """In the child before exec: SIGTERM when the parent thread exits (kept across exec)."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def port_in_use(port=ALIVE_PORT):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Manager:
    """One Clabernetes manager process for one API generation ("v0.6" or "v0.8")."""

    def __init__(self, control_plane, generation="v0.6", workdir=None, namespace=MANAGER_NAMESPACE,
                 binary=None, log_level="info"):
        if generation not in GENERATIONS:
            raise ManagerError("unknown manager version %r; choose one of %s" % (
                generation, ", ".join(sorted(GENERATIONS))))
        self.cp = control_plane
        self.generation = generation
        self.api_version = GENERATIONS[generation]["api_version"]
        self.group = GENERATIONS[generation]["group"]
        self.owner_label = GENERATIONS[generation]["label_prefix"] + "/topologyOwner"
        self.node_label = GENERATIONS[generation]["label_prefix"] + "/topologyNode"
        self.workdir = os.path.abspath(workdir or os.path.join(control_plane.workdir, "manager-" + generation))
        self.namespace = namespace
        self.binary = binary
        self.log_level = log_level
        self.log_path = os.path.join(self.workdir, "manager.log")
        self.proc = None
        self.pid = None
        self._lock_fd = None
        self._ca_file = os.path.join(self.workdir, "files", "certificates", "ca", "ca.crt")

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, timeout=180, detach=False):
        """Build (cached), prepare the cluster, start, wait for /alive 200. Returns self.
        The manager runs in its own session; unless detach=True (the CLI's `up`) it gets
        SIGTERM when the calling thread dies, so a killed test run leaves no manager behind."""
        if self.binary is None:
            self.binary = build(self.generation)
        self._lock()
        try:
            if port_in_use():
                raise ManagerError(
                    "port %d on 127.0.0.1 is already in use by a process not started by this harness; "
                    "the Clabernetes manager needs it (stop that process)" % ALIVE_PORT)
            self._prepare_cluster()
            self._spawn(detach)
            self._wait_alive(timeout)
        except BaseException:
            self.stop()
            raise
        self._write_state()
        return self

    def _lock(self):
        os.makedirs(os.path.dirname(LOCK_PATH) or ".", exist_ok=True)
        fd = os.open(LOCK_PATH, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            raise ManagerError(
                "another Clabernetes manager is running (%s): only one fits on a machine because it "
                "listens on the fixed port %d; stop it first: `python tests/controlplane/manager.py "
                "down --dir <cluster dir>` for one started by `up`, or kill that pid" % (
                    holder or "holder unknown", ALIVE_PORT))
        os.ftruncate(fd, 0)
        os.pwrite(fd, ("pid %d, dir %s\n" % (os.getpid(), self.workdir)).encode(), 0)
        self._lock_fd = fd

    def _unlock(self):
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _prepare_cluster(self):
        """CRDs Established, the manager's namespace (without a stale leader Lease), and the
        ClusterRole the manager binds launchers to."""
        from kubernetes import client
        from kubernetes.client.rest import ApiException

        crd_dir = self.binary + ".crds"
        files = sorted(os.path.join(crd_dir, n) for n in os.listdir(crd_dir) if n.endswith(".yaml"))
        try:
            self.cp.install_crds(files)
        except ControlPlaneError as exc:
            raise ManagerError(str(exc))
        api = self.cp.api_client()
        try:
            core = client.CoreV1Api(api)
            try:
                core.create_namespace({"metadata": {"name": self.namespace}})
            except ApiException as exc:
                if exc.status != 409:
                    raise
            try:  # a Lease left by a killed manager would delay leadership by up to 60 s
                client.CoordinationV1Api(api).delete_namespaced_lease(APP_NAME + "-manager", self.namespace)
            except ApiException as exc:
                if exc.status != 404:
                    raise
            role = {
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": APP_NAME + "-launcher-role"},
                "rules": [
                    {"apiGroups": [self.group], "resources": ["imagerequests"], "verbs": ["get", "create"]},
                    {"apiGroups": [self.group], "resources": ["connectivities"], "verbs": ["get", "watch"]},
                ],
            }
            client.RbacAuthorizationV1Api(api).patch_cluster_role(
                role["metadata"]["name"], role, field_manager="skyforge-tests", force=True,
                _content_type="application/apply-patch+yaml")
        except ApiException as exc:
            raise ManagerError("preparing the cluster for the manager failed: %s %s" % (exc.status, exc.body))
        finally:
            api.close()

    def _spawn(self, detach):
        files = os.path.join(self.workdir, "files")
        shutil.rmtree(files, ignore_errors=True)
        root = os.path.join(self.workdir, "root")
        os.makedirs(root, exist_ok=True)
        _certificates(os.path.join(files, "certificates"))
        sa = os.path.join(files, "serviceaccount")
        os.makedirs(sa)
        _write(os.path.join(sa, "token"), self.cp.admin_token)  # system:masters
        _write(os.path.join(sa, "ca.crt"), self.cp.ca_pem, 0o644)
        _write(os.path.join(sa, "namespace"), self.namespace, 0o644)
        wrapper = os.path.join(self.workdir, "wrapper.sh")
        _write(wrapper, WRAPPER, 0o755)
        env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": "/tmp",
            "KUBERNETES_SERVICE_HOST": "127.0.0.1",
            "KUBERNETES_SERVICE_PORT": str(self.cp.port),
            "KUBE_NAMESPACE": self.namespace,
            "APP_NAME": APP_NAME,
            "LAUNCHER_IMAGE": LAUNCHER_IMAGE,
            "CLIENT_OPERATION_TIMEOUT_MULTIPLIER": "5",
            "MANAGER_LOGGER_LEVEL": self.log_level,
            "CONTROLLER_LOGGER_LEVEL": self.log_level,
        }
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "sh", wrapper, root, files, self.binary],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir, env=env,
                start_new_session=True, pass_fds=(self._lock_fd,),
                preexec_fn=None if detach else _die_with_parent,
            )
        finally:
            log.close()
        self.pid = self.proc.pid
        os.ftruncate(self._lock_fd, 0)
        os.pwrite(self._lock_fd, ("manager pid %d, dir %s\n" % (self.pid, self.workdir)).encode(), 0)

    def _wait_alive(self, timeout):
        context = ssl.create_default_context(cafile=self._ca_file)
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if not self.running():
                raise ManagerError("the Clabernetes manager %s exited during start; log tail:\n%s" % (
                    self.generation, self.log_tail()))
            try:
                with urllib.request.urlopen(ALIVE_URL, timeout=3, context=context) as resp:
                    if resp.status == 200:
                        return
                    last = "HTTP %d" % resp.status
            except urllib.error.HTTPError as exc:
                last = "HTTP %d" % exc.code
            except (OSError, urllib.error.URLError) as exc:
                last = str(exc)
            time.sleep(0.5)
        raise ManagerError("the Clabernetes manager %s was not alive after %ds (%s %s); log tail:\n%s" % (
            self.generation, timeout, ALIVE_URL, last, self.log_tail()))

    def running(self):
        if self.proc is not None:
            return self.proc.poll() is None
        return bool(self.pid) and any(_proc_alive(self.pid, m) for m in ("clabernetes", "unshare", "wrapper.sh"))

    def stop(self, grace=15.0):
        """SIGTERM, then SIGKILL to the whole process group; releases the lock. Idempotent."""
        if self.pid:
            for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
                if not self.running():
                    break
                try:
                    os.killpg(self.pid, sig)  # its own session: the group is the manager's tree
                    os.killpg(self.pid, signal.SIGCONT)  # a paused manager must see the SIGTERM
                except OSError:
                    pass
                deadline = time.monotonic() + wait
                while self.running() and time.monotonic() < deadline:
                    time.sleep(0.1)
            if self.running():
                raise ManagerError("Clabernetes manager pid %d survived SIGKILL" % self.pid)
            if self.proc is not None:
                self.proc.wait()
        self.proc = None
        self.pid = None
        self._unlock()
        # the copies of the token and keys the wrapper mounted; the log stays for reading
        shutil.rmtree(os.path.join(self.workdir, "files"), ignore_errors=True)
        for name in (STATE_FILE, "root"):
            try:
                (os.rmdir if name == "root" else os.unlink)(os.path.join(self.workdir, name))
            except OSError:
                pass

    def pause(self):
        """Freeze the manager (SIGSTOP): the cluster keeps what it last wrote, nothing reacts."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.pid, signal.SIGCONT)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- state for the CLI ---------------------------------------------------------------------

    def _write_state(self):
        state = {"pid": self.pid, "generation": self.generation, "api_version": self.api_version,
                 "binary": self.binary, "namespace": self.namespace, "log": self.log_path}
        _write(os.path.join(self.workdir, STATE_FILE), json.dumps(state, indent=2) + "\n", 0o644)

    @classmethod
    def attach(cls, control_plane, workdir):
        with open(os.path.join(workdir, STATE_FILE)) as handle:
            state = json.load(handle)
        mgr = cls(control_plane, state["generation"], workdir=workdir, namespace=state["namespace"],
                  binary=state["binary"])
        mgr.pid = int(state["pid"])
        return mgr

    # -- the log: how tests see what the controller thinks -----------------------------------

    def log_offset(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_text(self, since=0):
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(since)
                return handle.read().decode("utf-8", "replace")
        except (IOError, OSError):
            return ""

    def log_tail(self, lines=40):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def critical_lines(self, since=0):
        """Log lines at critical/fatal level written after offset `since` (definition errors,
        failed reconciles)."""
        lines = (_ANSI.sub("", line) for line in self.log_text(since).splitlines())
        return [line.strip() for line in lines if _CRITICAL.search(line)]

    def definition_errors(self, since=0):
        """Critical lines about a Topology definition the controller could not process (they
        reach only this log: the Topology status does not show them)."""
        return [line for line in self.critical_lines(since)
                if "definition" in line or "containerlab config" in line]


# -- CLI --------------------------------------------------------------------------------------


def _control_plane(directory):
    try:
        cp = ControlPlane.attach(directory)
    except (IOError, OSError, ValueError, KeyError):
        return None
    return cp if cp.running() else None


def cmd_up(args):
    directory = os.path.abspath(args.dir)
    cp = _control_plane(directory)
    if cp is None:
        print("manager up: no running control plane in %s; start it first with "
              "`python tests/controlplane/cluster.py up --dir %s --crds`" % (directory, args.dir), file=sys.stderr)
        return 1
    workdir = os.path.join(directory, "manager")
    if os.path.exists(os.path.join(workdir, STATE_FILE)):
        existing = Manager.attach(cp, workdir)
        if existing.running():
            print("Clabernetes manager %s already running (pid %d)" % (existing.generation, existing.pid))
            return 0 if existing.generation == args.version else 1
        existing.stop()
    try:
        mgr = Manager(cp, args.version, workdir=workdir).start(detach=True)
    except ManagerUnavailable as exc:
        print("manager up: %s" % exc, file=sys.stderr)
        return 4
    except ManagerError as exc:
        print("manager up failed: %s" % exc, file=sys.stderr)
        return 1
    rel = os.path.relpath(workdir)
    print("Clabernetes manager %s (%s) pid %d, alive at %s" % (
        args.version, mgr.api_version, mgr.pid, ALIVE_URL))
    print("log:   %s/manager.log" % rel)
    print("apply: a lab rendered with api_version %s; launcher Deployments appear in its namespace; "
          "no kubelet runs, so pods never start" % mgr.api_version)
    print("stop:  python tests/controlplane/manager.py down --dir %s" % os.path.relpath(directory))
    mgr._unlock()  # the manager process keeps the inherited lock
    return 0


def cmd_down(args):
    directory = os.path.abspath(args.dir)
    workdir = os.path.join(directory, "manager")
    if not os.path.exists(os.path.join(workdir, STATE_FILE)):
        print("no Clabernetes manager state in %s; nothing to stop" % workdir)
        return 0
    cp = _control_plane(directory)
    mgr = Manager.attach(cp, workdir)
    try:
        mgr.stop()
    except ManagerError as exc:
        print("manager down: %s" % exc, file=sys.stderr)
        return 1
    print("Clabernetes manager stopped; log kept in %s" % os.path.relpath(mgr.log_path))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the manager beside a control plane started by cluster.py up")
    up.add_argument("--dir", default=".cluster")
    up.add_argument("--version", choices=sorted(GENERATIONS), default="v0.6")
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", help="stop the manager started by `up`")
    down.add_argument("--dir", default=".cluster")
    down.set_defaults(func=cmd_down)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
