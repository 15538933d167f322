# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start and stop a real etcd + kube-apiserver + kube-controller-manager for tests and by hand.

    python tests/controlplane/cluster.py up --dir .cluster [--crds]
    python tests/controlplane/cluster.py down --dir .cluster

From Python (pytest fixtures, the Clabernetes manager harness):

    cp = ControlPlane(workdir).start()      # or ControlPlane.attach(dir) for a running one
    cp.server, cp.ca_file, cp.admin_token, cp.admin_kubeconfig, cp.user_kubeconfig
    cp.install_crds()
    cp.stop()

Authentication is a static token file (admin in system:masters, an unprivileged user);
authorization is RBAC. TLS uses a CA and a serving certificate generated here, so the
kubeconfigs can verify the server.

kube-controller-manager runs beside them with only the controllers tests need (CONTROLLERS):
- garbage-collector-controller: deletes dependents whose owner is gone. Clabernetes sets
  ownerReferences (Topology -> its Deployments/Services/ConfigMap in v0.6; Topology -> Node/Link/
  LauncherProfile -> Deployments/Services in v0.8) and relies on it to clean up after a Topology
  is deleted; without it `state: absent` leaves the launchers behind.
- namespace-controller: empties and finally removes a deleted namespace (otherwise it stays
  Terminating forever).
No others: no kubelet runs, so the deployment/replicaset controllers would only create Pods
that never start (tests play the kubelet on Deployment status instead, see manager_fixtures),
and the serviceaccount/token controllers are not needed (ServiceAccount admission is off).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import base64
import ctypes
import datetime
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
STATE_FILE = "state.json"
ADMIN_USER = "skyforge-admin"
UNPRIVILEGED_USER = "lab-user"
UNPRIVILEGED_GROUP = "lab-users"
PROCESS_NAMES = ("etcd", "kube-apiserver", "kube-controller-manager")
CONTROLLERS = ("garbage-collector-controller", "namespace-controller")


class ControlPlaneError(RuntimeError):
    """The control plane could not be built, started or reached."""


class GoMissing(ControlPlaneError):
    """build.sh exited 3: no Go toolchain, so the binaries cannot be built."""


def shared_dir():
    """The shared reference directory (env SKYFORGE_SHARED overrides <repo>/../shared)."""
    return os.environ.get("SKYFORGE_SHARED") or os.path.join(os.path.dirname(REPO), "shared")


def crd_files():
    directory = os.path.join(shared_dir(), "reference", "clabernetes")
    files = sorted(
        os.path.join(directory, name) for name in os.listdir(directory) if name.endswith(".yaml")
    ) if os.path.isdir(directory) else []
    if not files:
        raise ControlPlaneError(
            "no Clabernetes CRDs found in %s; set SKYFORGE_SHARED to the directory that "
            "holds reference/clabernetes/*.yaml" % directory
        )
    return files


def build_binaries():
    """Run build.sh (cached, quick when built) and return the bin directory it prints.

    SKYFORGE_CONTROLPLANE_BIN names a directory with etcd and kube-apiserver instead.
    """
    override = os.environ.get("SKYFORGE_CONTROLPLANE_BIN")
    if override:
        return override
    proc = subprocess.run(
        ["bash", os.path.join(HERE, "build.sh")],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True, check=False,
    )
    if proc.returncode == 3:
        raise GoMissing(proc.stderr.strip() or "Go is not installed")
    if proc.returncode != 0:
        raise ControlPlaneError(
            "tests/controlplane/build.sh failed (exit %d):\n%s" % (proc.returncode, proc.stderr[-4000:])
        )
    return proc.stdout.strip().splitlines()[-1]


def _die_with_parent():
    """In the child before exec: get SIGTERM when the parent process dies (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write(path, data, mode=0o600):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    os.replace(tmp, path)


def generate_pki(directory):
    """CA, serving certificate for 127.0.0.1/localhost and a service-account key (EC P-256)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def pem_key(key):
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    later = now + datetime.timedelta(days=30)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"skyforge-test-ca")])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName(n) for n in (
        u"localhost", u"kubernetes", u"kubernetes.default", u"kubernetes.default.svc",
        u"kubernetes.default.svc.cluster.local")]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in (u"127.0.0.1", u"10.0.0.1")]
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"kube-apiserver")]))
        .issuer_name(ca_name).public_key(server_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(later)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    sa_key = ec.generate_private_key(ec.SECP256R1())
    os.makedirs(directory, exist_ok=True)
    paths = {
        "ca": os.path.join(directory, "ca.crt"),
        "cert": os.path.join(directory, "apiserver.crt"),
        "key": os.path.join(directory, "apiserver.key"),
        "sa_key": os.path.join(directory, "sa.key"),
        "sa_pub": os.path.join(directory, "sa.pub"),
    }
    _write(paths["ca"], ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
    _write(paths["cert"], server_cert.public_bytes(serialization.Encoding.PEM), 0o644)
    _write(paths["key"], pem_key(server_key))
    _write(paths["sa_key"], pem_key(sa_key))
    _write(paths["sa_pub"], sa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo), 0o644)
    return paths


def kubeconfig_text(server, ca_pem, user, token, context="skyforge-test"):
    """A self-contained kubeconfig (CA embedded) as YAML-compatible JSON."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "skyforge-test", "cluster": {
            "server": server,
            "certificate-authority-data": base64.b64encode(ca_pem).decode("ascii")}}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": "skyforge-test", "user": user}}],
        "current-context": context,
    }
    return json.dumps(config, indent=2) + "\n"


def _alive(pid, name):
    """True when pid runs a process whose command line mentions name (guards pid reuse)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            cmdline = handle.read().split(b"\0")
    except (IOError, OSError):
        return False
    if not cmdline or not cmdline[0]:
        return False
    try:
        with open("/proc/%d/stat" % pid) as handle:
            if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
    except (IOError, OSError, IndexError):
        return False
    return os.path.basename(cmdline[0].decode("utf-8", "replace")).startswith(name)


def stop_pid(pid, name, grace=15.0):
    """SIGTERM, wait up to grace seconds, then SIGKILL. Only signals pid when it is `name`."""
    if not _alive(pid, name):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(pid, name):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        return
    deadline = time.monotonic() + 5
    while _alive(pid, name) and time.monotonic() < deadline:
        time.sleep(0.05)


class ControlPlane:
    """etcd + kube-apiserver on free 127.0.0.1 ports, configured from workdir.

    The attributes a caller (fixtures, a Clabernetes manager started beside it) needs:
    server (https URL), host/port, ca_file, ca_pem, admin_token, user_token,
    admin_kubeconfig, user_kubeconfig, workdir, bin_dir, pids.
    """

    def __init__(self, workdir=None, bin_dir=None, extra_users=(), log_level=0):
        self._own_workdir = workdir is None
        self.workdir = os.path.abspath(workdir or tempfile.mkdtemp(prefix="skyforge-cp-"))
        self.bin_dir = bin_dir
        self.extra_users = list(extra_users)  # (user, token, groups) tuples added to the token file
        self.log_level = log_level
        self.procs = {}
        self.pids = {}
        self.host = "127.0.0.1"
        self.port = None
        self.server = None
        self.admin_token = None
        self.user_token = None
        self.ca_file = os.path.join(self.workdir, "pki", "ca.crt")
        self.admin_kubeconfig = os.path.join(self.workdir, "kubeconfig")
        self.user_kubeconfig = os.path.join(self.workdir, "kubeconfig-user")
        self.etcd_url = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, daemon=False, attempts=3):
        """Start both processes and wait for /readyz. daemon=True detaches them (CLI `up`)."""
        if self.bin_dir is None:
            self.bin_dir = build_binaries()
        os.makedirs(self.workdir, exist_ok=True)
        pki = generate_pki(os.path.join(self.workdir, "pki"))
        self.admin_token = secrets.token_hex(24)
        self.user_token = secrets.token_hex(24)
        lines = [
            '%s,%s,%s,"system:masters"' % (self.admin_token, ADMIN_USER, ADMIN_USER),
            '%s,%s,%s,"%s"' % (self.user_token, UNPRIVILEGED_USER, UNPRIVILEGED_USER, UNPRIVILEGED_GROUP),
        ]
        for user, token, groups in self.extra_users:
            lines.append('%s,%s,%s,"%s"' % (token, user, user, ",".join(groups)))
        token_file = os.path.join(self.workdir, "tokens.csv")
        _write(token_file, "\n".join(lines) + "\n")
        last_error = None
        for _attempt in range(attempts):
            try:
                self._start_etcd(daemon)
                self._start_apiserver(pki, token_file, daemon)
                self._write_kubeconfigs()
                self._start_controller_manager(daemon)
                break
            except ControlPlaneError as exc:  # a port taken between probe and bind: retry
                last_error = exc
                self._stop_processes()
        else:
            raise last_error
        self._write_state()
        return self

    def _write_kubeconfigs(self):
        ca_pem = self.ca_pem
        _write(self.admin_kubeconfig, kubeconfig_text(self.server, ca_pem, ADMIN_USER, self.admin_token))
        _write(self.user_kubeconfig, kubeconfig_text(self.server, ca_pem, UNPRIVILEGED_USER, self.user_token))

    @property
    def ca_pem(self):
        with open(self.ca_file, "rb") as handle:
            return handle.read()

    def _spawn(self, name, argv, daemon):
        log = open(os.path.join(self.workdir, name + ".log"), "ab")
        # a test session that dies (SIGKILL, crash) must not leave etcd/apiserver behind
        tie = None if daemon or threading.current_thread() is not threading.main_thread() else _die_with_parent
        try:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.workdir, start_new_session=daemon, preexec_fn=tie,
            )
        finally:
            log.close()
        self.procs[name] = proc
        self.pids[name] = proc.pid
        _write(os.path.join(self.workdir, name + ".pid"), "%d\n" % proc.pid, 0o644)
        return proc

    def _log_tail(self, name, lines=30):
        try:
            with open(os.path.join(self.workdir, name + ".log"), "rb") as handle:
                return b"\n".join(handle.read().splitlines()[-lines:]).decode("utf-8", "replace")
        except (IOError, OSError):
            return ""

    def _wait(self, name, check, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.procs[name]
            if proc.poll() is not None:
                raise ControlPlaneError("%s exited with %s during start:\n%s" % (
                    name, proc.returncode, self._log_tail(name)))
            if check():
                return
            time.sleep(0.2)
        raise ControlPlaneError("%s not ready after %ds; log tail:\n%s" % (name, timeout, self._log_tail(name)))

    def _start_etcd(self, daemon):
        client, peer = free_port(), free_port()
        self.etcd_url = "http://127.0.0.1:%d" % client
        data_dir = os.path.join(self.workdir, "etcd-data")
        shutil.rmtree(data_dir, ignore_errors=True)
        self._spawn("etcd", [
            os.path.join(self.bin_dir, "etcd"),
            "--name=default",
            "--data-dir=" + data_dir,
            "--listen-client-urls=" + self.etcd_url,
            "--advertise-client-urls=" + self.etcd_url,
            "--listen-peer-urls=http://127.0.0.1:%d" % peer,
            "--initial-advertise-peer-urls=http://127.0.0.1:%d" % peer,
            "--initial-cluster=default=http://127.0.0.1:%d" % peer,
            "--unsafe-no-fsync=true",
            "--log-level=warn",
        ], daemon)

        def healthy():
            try:
                with urllib.request.urlopen(self.etcd_url + "/health", timeout=2) as resp:
                    return json.loads(resp.read().decode()).get("health") == "true"
            except (OSError, ValueError):
                return False

        self._wait("etcd", healthy, 60)

    def _start_apiserver(self, pki, token_file, daemon):
        self.port = free_port()
        self.server = "https://127.0.0.1:%d" % self.port
        self._spawn("kube-apiserver", [
            os.path.join(self.bin_dir, "kube-apiserver"),
            "--etcd-servers=" + self.etcd_url,
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            "--secure-port=%d" % self.port,
            "--tls-cert-file=" + pki["cert"],
            "--tls-private-key-file=" + pki["key"],
            "--token-auth-file=" + token_file,
            "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file=" + pki["sa_pub"],
            "--service-account-signing-key-file=" + pki["sa_key"],
            "--service-cluster-ip-range=10.0.0.0/16",  # every launcher has Services: room for big labs
            "--allow-privileged=true",
            "--disable-admission-plugins=ServiceAccount",
            "--endpoint-reconciler-type=none",
            "--cert-dir=" + os.path.join(self.workdir, "pki"),
            "--v=%d" % self.log_level,
        ], daemon)
        context = ssl.create_default_context(cafile=pki["ca"])
        self._wait("kube-apiserver", lambda: self._answers_ok(self.server + "/readyz", context), 180)

    def _answers_ok(self, url, context):
        request = urllib.request.Request(url, headers={"Authorization": "Bearer " + self.admin_token})
        try:
            with urllib.request.urlopen(request, timeout=5, context=context) as resp:
                return resp.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def _start_controller_manager(self, daemon):
        port = free_port()
        self._spawn("kube-controller-manager", [
            os.path.join(self.bin_dir, "kube-controller-manager"),
            "--kubeconfig=" + self.admin_kubeconfig,
            "--authentication-kubeconfig=" + self.admin_kubeconfig,
            "--authorization-kubeconfig=" + self.admin_kubeconfig,
            "--authentication-skip-lookup=true",  # tokens only: no client-CA ConfigMap to wait for
            "--controllers=" + ",".join(CONTROLLERS),
            "--leader-elect=false",
            "--use-service-account-credentials=false",
            "--bind-address=127.0.0.1",
            "--secure-port=%d" % port,
            "--cert-dir=" + os.path.join(self.workdir, "pki", "kcm"),
            "--v=%d" % self.log_level,
        ], daemon)
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # its self-signed serving certificate; only a liveness probe
        self._wait("kube-controller-manager",
                   lambda: self._answers_ok("https://127.0.0.1:%d/healthz" % port, context), 120)

    def _write_state(self):
        state = {
            "server": self.server, "port": self.port, "etcd": self.etcd_url, "bin_dir": self.bin_dir,
            "admin_token": self.admin_token, "user_token": self.user_token, "pids": self.pids,
            "admin_kubeconfig": self.admin_kubeconfig, "user_kubeconfig": self.user_kubeconfig,
            "ca_file": self.ca_file,
        }
        _write(os.path.join(self.workdir, STATE_FILE), json.dumps(state, indent=2) + "\n")

    @classmethod
    def attach(cls, workdir):
        """A ControlPlane describing one started earlier (e.g. by `up`) in workdir."""
        workdir = os.path.abspath(workdir)
        with open(os.path.join(workdir, STATE_FILE)) as handle:
            state = json.load(handle)
        cp = cls(workdir, bin_dir=state["bin_dir"])
        cp._own_workdir = False
        cp.server, cp.port, cp.etcd_url = state["server"], state["port"], state["etcd"]
        cp.admin_token, cp.user_token = state["admin_token"], state["user_token"]
        cp.pids = {name: int(pid) for name, pid in state["pids"].items()}
        return cp

    def running(self):
        return all(_alive(self.pids.get(name, 0), name) for name in PROCESS_NAMES)

    def _stop_processes(self):
        # clients first, then the apiserver, so none logs errors about the next one going down
        for name in ("kube-controller-manager", "kube-apiserver", "etcd"):
            proc = self.procs.pop(name, None)
            if proc is not None:
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(15)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait(10)
            elif name in self.pids:
                stop_pid(self.pids[name], name)
            self.pids.pop(name, None)
            try:
                os.unlink(os.path.join(self.workdir, name + ".pid"))
            except OSError:
                pass

    def stop(self, remove=None):
        """Stop both processes; remove the workdir if we created it (or remove=True)."""
        self._stop_processes()
        if remove if remove is not None else self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- API helpers (admin) -----------------------------------------------------------------

    def api_client(self, token=None):
        """A kubernetes.client.ApiClient for the admin (or the given token)."""
        from kubernetes import client

        configuration = client.Configuration()
        configuration.host = self.server
        configuration.ssl_ca_cert = self.ca_file
        configuration.api_key = {"authorization": "Bearer " + (token or self.admin_token)}
        return client.ApiClient(configuration)

    def install_crds(self, files=None, timeout=60):
        """Create (or update) the Clabernetes CRDs and wait until each is Established."""
        import yaml
        from kubernetes import client
        from kubernetes.client.rest import ApiException

        api = client.ApiextensionsV1Api(self.api_client())
        names = []
        for path in files or crd_files():
            with open(path) as handle:
                for doc in yaml.safe_load_all(handle):
                    if not doc or doc.get("kind") != "CustomResourceDefinition":
                        continue
                    name = doc["metadata"]["name"]
                    names.append(name)
                    try:
                        api.patch_custom_resource_definition(
                            name, doc, field_manager="skyforge-tests", force=True,
                            _content_type="application/apply-patch+yaml")
                    except ApiException as exc:
                        raise ControlPlaneError("installing CRD %s from %s failed: %s %s" % (
                            name, path, exc.status, exc.body))
        deadline = time.monotonic() + timeout
        for name in names:
            while True:
                crd = api.read_custom_resource_definition(name)
                conditions = {c.type: c.status for c in (crd.status.conditions or [])}
                if conditions.get("Established") == "True":
                    break
                if time.monotonic() > deadline:
                    raise ControlPlaneError("CRD %s not Established after %ds: %s" % (name, timeout, conditions))
                time.sleep(0.2)
        return names

    def create_namespace(self, name, labels=None):
        """A namespace labelled for privileged pods (what Clabernetes launchers need)."""
        from kubernetes import client

        all_labels = {"pod-security.kubernetes.io/enforce": "privileged"}
        all_labels.update(labels or {})
        client.CoreV1Api(self.api_client()).create_namespace(
            {"metadata": {"name": name, "labels": all_labels}})
        return name


# -- CLI -----------------------------------------------------------------------------------


def cmd_up(args):
    workdir = os.path.abspath(args.dir)
    if os.path.exists(os.path.join(workdir, STATE_FILE)):
        existing = ControlPlane.attach(workdir)
        if existing.running():
            print("control plane already running at %s (state in %s)" % (existing.server, workdir))
            return 0
        existing.stop(remove=False)
    try:
        cp = ControlPlane(workdir).start(daemon=True)
    except GoMissing as exc:
        print("cluster up: %s" % exc, file=sys.stderr)
        return 3
    except ControlPlaneError as exc:
        print("cluster up failed: %s" % exc, file=sys.stderr)
        return 1
    if args.crds:
        try:
            installed = cp.install_crds()
        except ControlPlaneError as exc:
            cp.stop(remove=False)
            print("cluster up failed: %s" % exc, file=sys.stderr)
            return 1
        print("installed CRDs: %s" % ", ".join(installed))
    rel = os.path.relpath(workdir)
    print("kube-apiserver %s (etcd %s), pids %s" % (cp.server, cp.etcd_url, cp.pids))
    print("admin:         export KUBECONFIG=%s/kubeconfig" % rel)
    print("unprivileged:  export KUBECONFIG=%s/kubeconfig-user   (user %s, no RBAC bindings)" % (
        rel, UNPRIVILEGED_USER))
    print("kubectl:       %s/kubectl --kubeconfig %s/kubeconfig get ns" % (cp.bin_dir, rel))
    print("controllers:   kube-controller-manager runs %s" % ", ".join(CONTROLLERS))
    print("logs:          %s/etcd.log %s/kube-apiserver.log %s/kube-controller-manager.log" % (rel, rel, rel))
    print("stop:          python tests/controlplane/cluster.py down --dir %s" % rel)
    return 0


def cmd_down(args):
    workdir = os.path.abspath(args.dir)
    if not os.path.exists(os.path.join(workdir, STATE_FILE)):
        print("no control plane state in %s; nothing to stop" % workdir)
        return 0
    cp = ControlPlane.attach(workdir)
    cp.stop(remove=False)
    for name in ("etcd-data", "pki", STATE_FILE, "tokens.csv", "kubeconfig", "kubeconfig-user"):
        path = os.path.join(workdir, name)
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.exists(path):
            os.unlink(path)
    print("control plane stopped; logs kept in %s" % workdir)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start etcd, kube-apiserver and kube-controller-manager in the background")
    up.add_argument("--dir", default=".cluster")
    up.add_argument("--crds", action="store_true", help="install both Clabernetes Topology CRDs")
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", help="stop what `up` started")
    down.add_argument("--dir", default=".cluster")
    down.set_defaults(func=cmd_down)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
