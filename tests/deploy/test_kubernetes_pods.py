"""The pods of deploy/kubernetes as the built manifests define them, run as local processes
against a real PostgreSQL: the init container's guard and migration, the API's gunicorn
command, the worker's command, and the probes on the container port. What the image
provides is mapped onto this checkout (PodRun.LOCAL); everything else (commands,
environment, the generated ConfigMap and Secret) comes from `kubectl kustomize` output.
"""

import base64
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
import yaml

from tests.deploy.kustomize import OVERLAY, containers, kustomize, one, pod_spec
from tests.webhook.conftest import free_port

BIN = os.path.dirname(sys.executable)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTION = "/usr/share/ansible/collections/ansible_collections/skyforge/labs"
# this checkout as `make collection` links it into .skyforge/collections
LOCAL_COLLECTION = os.path.join(ROOT, ".skyforge", "collections", "ansible_collections", "skyforge", "labs")
API, WORKER = "skyforge-webhook-api", "skyforge-webhook-worker"


class PodRun:
    """One pod's containers as local processes: its own data dir (the emptyDir), the config
    from the ConfigMap, env resolved from the generated Secrets."""

    # image path -> this checkout / the venv
    LOCAL = {COLLECTION: LOCAL_COLLECTION, "/opt/skyforge-webhook": os.path.join(ROOT, "webhook"),
             "gunicorn": os.path.join(BIN, "gunicorn"), "skyforge-webhook": os.path.join(BIN, "skyforge-webhook")}

    def __init__(self, objects, deployment, workdir):
        self.objects, self.spec = objects, pod_spec(objects, deployment)
        self.data = workdir / "data"
        self.data.mkdir(parents=True)
        config_dir = workdir / "config"
        config_dir.mkdir()
        config_map = one(objects, "ConfigMap")
        for key, text in config_map["data"].items():
            # the image installs the collection where ansible looks by default; here the runs
            # are told where `make collection` put it
            text = text.replace('    ANSIBLE_NOCOLOR: "1"\n', '    ANSIBLE_NOCOLOR: "1"\n    ANSIBLE_COLLECTIONS_PATH: %s\n'
                                % os.path.join(ROOT, ".skyforge", "collections"))
            (config_dir / key).write_text(self.local(text))
        self.mounts = {"/etc/skyforge": str(config_dir), "/var/lib/skyforge": str(self.data),
                       "/tmp": str(workdir)}
        self.procs = []

    def local(self, text):
        for image_path, here in sorted(self.LOCAL.items(), key=lambda item: -len(item[0])):
            if image_path.startswith("/"):
                text = text.replace(image_path, here)
        return text.replace("/var/lib/skyforge", str(self.data))

    def path(self, value):
        for mount, here in self.mounts.items():
            if value == mount or value.startswith(mount + "/"):
                return here + value[len(mount):]
        return self.LOCAL.get(value) or self.local(value)

    def secret(self, name):
        return one(self.objects, "Secret", name).get("data") or {}

    def env(self, container, **extra):
        env = {k: v for k, v in os.environ.items() if k in ("LANG", "TMPDIR")}
        # the image's PATH finds its console scripts (skyforge-webhook, gunicorn): here the venv's
        env.update(HOME=str(self.data), PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
        for source in container.get("envFrom") or []:
            env.update({k: base64.b64decode(v).decode() for k, v in self.secret(source["secretRef"]["name"]).items()})
        for item in container.get("env") or []:
            if "value" in item:
                env[item["name"]] = self.path(item["value"])
                continue
            ref = item["valueFrom"]["secretKeyRef"]
            data = self.secret(ref["name"])
            if ref["key"] in data:
                env[item["name"]] = base64.b64decode(data[ref["key"]]).decode()
            else:
                assert ref.get("optional"), "%s: key %s missing from %s" % (item["name"], ref["key"], ref["name"])
        env.update(extra)
        return env

    def argv(self, container):
        return [self.path(arg) for arg in container["command"] + container.get("args", [])]

    def container(self, name):
        return next(c for c in containers(self.spec) if c["name"] == name)

    def run(self, name, **env):
        container = self.container(name)
        return subprocess.run(self.argv(container), env=self.env(container, **env), cwd=str(self.data),
                              capture_output=True, text=True, timeout=120, check=False)

    def start(self, name, log, wrap=list, **env):
        """The container's process; wrap(argv) may put it in a pod's mount namespace."""
        container = self.container(name)
        with open(str(log), "wb") as handle:
            proc = subprocess.Popen(wrap(self.argv(container)), env=self.env(container, **env), cwd=str(self.data),
                                    stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.procs.append(proc)
        return proc

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def database(postgres_server):
    """A fresh database the pods have to migrate themselves: (url with env:PASSWORD, password)."""
    name = "k8s_" + uuid.uuid4().hex[:12]
    url = urllib.parse.urlsplit(postgres_server.create_database(name))
    yield ("postgresql://%s:env:SKYFORGE_STORE_PASSWORD@%s:%d%s" % (url.username, url.hostname, url.port, url.path),
           urllib.parse.unquote(url.password))
    postgres_server.drop_database(name)


@pytest.fixture
def overlay_objects(kubectl, deploy_tree, database):
    return fill_overlay(kubectl, deploy_tree, database)


def fill_overlay(kubectl, deploy_tree, database):
    """The external-postgres overlay filled in as its header says: the URL and the password file."""
    overlay = deploy_tree / OVERLAY
    spec = yaml.safe_load((overlay / "kustomization.yaml").read_text())
    store = spec["secretGenerator"][0]
    assert store["literals"][0].startswith("url=postgresql://skyforge:env:SKYFORGE_STORE_PASSWORD@")
    store["literals"] = ["url=" + database[0]]
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump(spec))
    (overlay / "secrets" / "store-password").write_text(database[1])
    return kustomize(kubectl, overlay)


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError as exc:
        return None, str(exc)


def wait_for(url, status, procs, timeout=90):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        assert all(p.poll() is None for p in procs), "a process exited: %s" % [p.returncode for p in procs]
        last = get(url)
        if last[0] == status:
            return last[1]
        time.sleep(0.3)
    raise AssertionError("%s never answered %s; last: %s" % (url, status, last))


def test_the_pods_migrate_start_and_turn_ready_on_the_probes(overlay_objects, tmp_path):
    api = PodRun(overlay_objects, API, tmp_path / "api")
    worker = PodRun(overlay_objects, WORKER, tmp_path / "worker")
    webhook = api.container("webhook")
    port = {p["name"]: p["containerPort"] for p in webhook["ports"]}
    config = yaml.safe_load(open(os.path.join(api.mounts["/etc/skyforge"], "config.yml")))
    # the service listens where the probes look (the named port of the container)
    assert int(config["server"]["bind"].rsplit(":", 1)[1]) == port[webhook["readinessProbe"]["httpGet"]["port"]]
    # both init containers migrate the empty database (concurrently safe; the second is a no-op)
    for pod in (api, worker):
        done = pod.run("migrate")
        assert done.returncode == 0, done.stderr
    local = "127.0.0.1:%d" % free_port()   # the tests bind loopback only, on a free port
    try:
        procs = [api.start("webhook", tmp_path / "api.log", SKYFORGE_BIND=local)]
        base = "http://" + local
        wait_for(base + webhook["livenessProbe"]["httpGet"]["path"], 200, procs)
        # not ready while no worker is alive: the Service sends no traffic to it
        assert "no live worker" in wait_for(base + webhook["readinessProbe"]["httpGet"]["path"], 503, procs)
        procs.append(worker.start("webhook", tmp_path / "worker.log"))
        wait_for(base + webhook["readinessProbe"]["httpGet"]["path"], 200, procs)
    finally:
        api.stop()
        worker.stop()
    # no error while serving (what the pool prints at interpreter exit under gevent is not ours)
    serving = (tmp_path / "api.log").read_text().split("Handling signal: term")[0]
    assert "Traceback" not in serving and "ERROR" not in serving, serving[-3000:]


@pytest.mark.parametrize("url", [None, "sqlite:////var/lib/skyforge/webhook.sqlite3"])
def test_the_init_container_refuses_anything_but_postgresql(kubectl, deploy_tree, tmp_path, url):
    """The base alone (its store Secret is empty) or an overlay giving a SQLite URL: exit 2,
    and the log says why and where to look; the service container never starts."""
    if url:
        overlay = deploy_tree / OVERLAY
        spec = yaml.safe_load((overlay / "kustomization.yaml").read_text())
        spec["secretGenerator"][0]["literals"] = ["url=" + url]
        (overlay / "kustomization.yaml").write_text(yaml.safe_dump(spec))
    objects = kustomize(kubectl, deploy_tree / (OVERLAY if url else "base"))
    for deployment in (API, WORKER):
        pod = PodRun(objects, deployment, tmp_path / deployment)
        done = pod.run("migrate")
        assert done.returncode == 2
        assert "must be a postgresql:// URL" in done.stderr and "overlays/external-postgres" in done.stderr
        assert os.listdir(str(pod.data)) == []   # no SQLite file was made


@pytest.mark.controlplane
def test_a_run_in_the_worker_pod_changes_the_cluster_with_the_pods_service_account(
        kubectl, deploy_tree, database, control_plane, namespace, tmp_path):
    """Chat/CI -> API pod -> PostgreSQL -> worker pod -> lab_destroy -> the real API server,
    with nothing but the worker's service-account token (the shipped Role) mounted where the
    kubelet puts it: the config passes the service address on to the runs, and the modules
    take the in-cluster configuration."""
    import hashlib
    import json
    import secrets

    from kubernetes import client

    from ansible_collections.skyforge.labs.plugins.module_utils.c9s.service import run as c9s_apply
    from tests.controlplane.fixtures import apply_params, lab_manifests, write_manifests
    from tests.controlplane.pod_identity import in_pod_argv, require_unshare, service_account_files

    require_unshare()
    # an API token, configured as `python -m webhook token` prints it (its SHA-256)
    token = secrets.token_hex(16)
    config = deploy_tree / "base" / "config.yml"
    text = config.read_text()
    assert "  tokens: []\n" in text
    config.write_text(text.replace("  tokens: []\n", "  tokens: [{name: ci, role: operator, sha256: %s}]\n"
                                   % hashlib.sha256(token.encode()).hexdigest()))
    objects = fill_overlay(kubectl, deploy_tree, database)
    account = pod_spec(objects, WORKER)["serviceAccountName"]
    files = service_account_files(control_plane, control_plane.api_client(), namespace, account, tmp_path / "sa")
    lab = "from-webhook"
    c9s_apply(apply_params(control_plane.admin_kubeconfig,
                           src=write_manifests(tmp_path / "lab.yml", lab_manifests(lab, namespace))))

    api, worker = PodRun(objects, API, tmp_path / "api"), PodRun(objects, WORKER, tmp_path / "worker")
    assert api.run("migrate").returncode == 0
    local = "127.0.0.1:%d" % free_port()
    base = "http://" + local
    try:
        procs = [api.start("webhook", tmp_path / "api.log", SKYFORGE_BIND=local),
                 worker.start("webhook", tmp_path / "worker.log", wrap=lambda argv: in_pod_argv(files, argv),
                              KUBERNETES_SERVICE_HOST="127.0.0.1", KUBERNETES_SERVICE_PORT=str(control_plane.port))]
        wait_for(base + "/readyz", 200, procs)
        auth = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
        # the account cannot create namespaces: a deploy must say so, or it is refused up front
        refused = urllib.request.Request(base + "/api/v1/runs", method="POST", headers=auth, data=json.dumps(
            {"playbook": "lab_deploy", "vars": {"topology": "frr-small", "lab_name": lab,
                                                "namespace": namespace}}).encode())
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(refused, timeout=10)
        assert info.value.code == 422 and "create_namespace" in info.value.read().decode()
        request = urllib.request.Request(base + "/api/v1/runs", method="POST", headers=auth, data=json.dumps(
            {"playbook": "lab_destroy", "vars": {"lab_name": lab, "namespace": namespace}}).encode())
        with urllib.request.urlopen(request, timeout=10) as resp:
            run_id = json.loads(resp.read())["id"]
        deadline = time.monotonic() + 240
        while True:
            with urllib.request.urlopen(urllib.request.Request(base + "/api/v1/runs/" + run_id, headers=auth)) as resp:
                state = json.loads(resp.read())
            if state["status"] in ("successful", "failed", "canceled", "error"):
                break
            assert time.monotonic() < deadline, state
            time.sleep(0.5)
        with urllib.request.urlopen(urllib.request.Request(base + "/api/v1/runs/%s/stdout" % run_id,
                                                           headers=auth)) as resp:
            stdout = resp.read().decode()
    finally:
        api.stop()
        worker.stop()
    assert state["status"] == "successful", stdout[-3000:] + (tmp_path / "worker.log").read_text()[-2000:]
    selector = "skyforge.labs/lab=%s" % lab
    core = client.CoreV1Api(control_plane.api_client())
    assert core.list_namespaced_config_map(namespace, label_selector=selector).items == []
    topologies = client.CustomObjectsApi(control_plane.api_client()).list_namespaced_custom_object(
        "c9s.run", "v1alpha1", namespace, "topologies")["items"]
    assert topologies == []
