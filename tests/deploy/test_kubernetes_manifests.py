"""deploy/kubernetes as kustomize builds it: what a user deploying the service relies on."""

import os

import yaml

from tests.deploy.kustomize import (DEPLOY, OVERLAY, ROOT, STORE_PASSWORD, containers, kustomize,
                                    one, pod_spec, wrap)

API, WORKER = "skyforge-webhook-api", "skyforge-webhook-worker"
PLACEHOLDER = "skyforge-labs-ee"


def test_base_and_overlay_build_every_object_the_service_needs(kubectl, deploy_tree):
    for directory in (deploy_tree / "base", deploy_tree / OVERLAY):
        kinds = sorted((o["kind"], o["metadata"]["name"].rsplit("-", 1)[0] if o["kind"] in ("ConfigMap", "Secret")
                        else o["metadata"]["name"]) for o in kustomize(kubectl, directory))
        assert kinds == [
            ("ConfigMap", "skyforge-webhook-config"),
            ("Deployment", API), ("Deployment", WORKER),
            ("PodDisruptionBudget", API),
            ("Role", "skyforge-labs-deployer"), ("RoleBinding", WORKER),
            ("Secret", "skyforge-webhook-secrets"), ("Secret", "skyforge-webhook-store"),
            ("Service", "skyforge-webhook"),
            ("ServiceAccount", API), ("ServiceAccount", WORKER),
        ], directory


def test_the_role_is_exactly_the_shipped_one_and_bound_to_the_worker_only(kubectl, deploy_tree):
    objects = kustomize(kubectl, deploy_tree / OVERLAY)
    with open(os.path.join(ROOT, "roles", "cluster_access", "files", "role.yaml")) as handle:
        shipped = yaml.safe_load(handle)
    role = one(objects, "Role")
    assert role["rules"] == shipped["rules"]
    assert role["metadata"]["name"] == shipped["metadata"]["name"]
    binding = one(objects, "RoleBinding")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": shipped["metadata"]["name"]}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": WORKER, "namespace": "skyforge"}]
    assert pod_spec(objects, WORKER)["serviceAccountName"] == WORKER
    # the API never talks to the cluster: no token in its pods
    api = pod_spec(objects, API)
    assert api["serviceAccountName"] == API and api["automountServiceAccountToken"] is False
    assert one(objects, "ServiceAccount", API)["automountServiceAccountToken"] is False


def test_the_image_parameter_substitutes_every_container(kubectl, deploy_tree, tmp_path):
    # what `kustomize edit set image` does to the overlay
    overlay_file = deploy_tree / OVERLAY / "kustomization.yaml"
    spec = yaml.safe_load(overlay_file.read_text())
    assert [i["name"] for i in spec["images"]] == [PLACEHOLDER]
    spec["images"] = [{"name": PLACEHOLDER, "newName": "registry.test/team/ee", "newTag": "1.2.3"}]
    overlay_file.write_text(yaml.safe_dump(spec))
    # and a user's own kustomization on top of the base
    mine = wrap(tmp_path / "mine", deploy_tree / "base",
                images=[{"name": PLACEHOLDER, "newName": "registry.test/mine", "digest": "sha256:" + "a" * 64}])
    for directory, image in ((deploy_tree / OVERLAY, "registry.test/team/ee:1.2.3"),
                             (mine, "registry.test/mine@sha256:" + "a" * 64)):
        objects = kustomize(kubectl, directory)
        images = {(d, c["name"]): c["image"] for d in (API, WORKER) for c in containers(pod_spec(objects, d))}
        assert set(images) == {(API, "migrate"), (API, "webhook"), (WORKER, "migrate"), (WORKER, "webhook")}
        assert set(images.values()) == {image}, directory


def test_both_deployments_read_the_same_generated_config_and_store(kubectl, deploy_tree):
    objects = kustomize(kubectl, deploy_tree / OVERLAY)
    config_map = one(objects, "ConfigMap")["metadata"]["name"]
    store = one(objects, "Secret", [o["metadata"]["name"] for o in objects
                                    if o["metadata"]["name"].startswith("skyforge-webhook-store-")][0])
    for deployment in (API, WORKER):
        spec = pod_spec(objects, deployment)
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes["config"]["configMap"]["name"] == config_map
        for container in containers(spec):
            env = {e["name"]: e for e in container["env"]}
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert mounts[os.path.dirname(env["SKYFORGE_CONFIG"]["value"])] == "config"
            for name, key in (("SKYFORGE_STORE_URL", "url"), ("SKYFORGE_STORE_PASSWORD", "password")):
                ref = env[name]["valueFrom"]["secretKeyRef"]
                assert (ref["name"], ref["key"]) == (store["metadata"]["name"], key)
                assert key in store["data"]
    # the overlay's URL reads the password from the variable the pods set from the Secret
    import base64
    url = base64.b64decode(store["data"]["url"]).decode()
    assert url.startswith("postgresql://skyforge:env:SKYFORGE_STORE_PASSWORD@")
    assert base64.b64decode(store["data"]["password"]).decode() == STORE_PASSWORD


def test_the_overlay_without_its_password_file_names_the_missing_file(kubectl, deploy_tree):
    import subprocess
    (deploy_tree / OVERLAY / "secrets" / "store-password").unlink()
    proc = subprocess.run([kubectl, "kustomize", str(deploy_tree / OVERLAY)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode != 0
    assert "secrets/store-password" in proc.stderr


def test_no_secret_value_is_in_the_repository(kubectl):
    """The base's Secrets are empty shapes; the overlay's password file is git-ignored."""
    import subprocess
    objects = kustomize(kubectl, os.path.join(DEPLOY, "base"))
    assert [o.get("data") for o in objects if o["kind"] == "Secret"] == [{}, {}]
    ignored = subprocess.run(["git", "check-ignore", "-q", os.path.join(DEPLOY, OVERLAY, "secrets", "store-password")],
                             cwd=ROOT, check=False)
    assert ignored.returncode == 0


def test_pods_run_as_non_root_with_read_only_root_and_requests(kubectl, deploy_tree):
    objects = kustomize(kubectl, deploy_tree / OVERLAY)
    for deployment in (API, WORKER):
        spec = pod_spec(objects, deployment)
        assert spec["securityContext"]["runAsNonRoot"] is True
        for container in containers(spec):
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]
            assert {"cpu", "memory"} <= set(container["resources"]["requests"])
            # everything the service writes is on an emptyDir
            writable = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
            assert writable == {"/var/lib/skyforge", "/tmp"}
    api = one(objects, "Deployment", API)
    assert api["spec"]["replicas"] == 2
    pdb = one(objects, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == api["spec"]["selector"]["matchLabels"]
    service = one(objects, "Service")
    assert service["spec"]["selector"] == api["spec"]["template"]["metadata"]["labels"]
