# -*- coding: utf-8 -*-
"""Where connect() takes its connection from when no option names one: $KUBECONFIG, then the
pod's service account, then ~/.kube/config. The in-cluster path itself runs against the real
API server in tests/integration/test_c9s_apply_in_cluster.py; here the service-account
directory is a temporary one."""

import json

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.k8s import client as k8s


def kubeconfig(path, server):
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}))
    return str(path)


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """An empty HOME, no KUBECONFIG, not in a pod, an empty service-account directory."""
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(k8s, "SERVICEACCOUNT_DIR", str(sa))
    return {"home": home, "sa": sa, "tmp": tmp_path, "env": monkeypatch}


def in_pod(machine):
    machine["env"].setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    machine["env"].setenv("KUBERNETES_SERVICE_PORT", "443")


def test_outside_a_pod_without_kubeconfig_the_error_says_what_to_set(machine):
    with pytest.raises(LabError, match="not running inside a cluster: set the kubeconfig option"):
        k8s.connect()


def test_in_a_pod_without_a_token_or_kubeconfig_the_error_names_the_token_path(machine):
    in_pod(machine)
    with pytest.raises(LabError) as info:
        k8s.connect()
    assert str(machine["sa"] / "token") in str(info.value)
    assert "automountServiceAccountToken" in str(info.value)


def test_in_a_pod_without_a_token_home_kubeconfig_is_used(machine):
    in_pod(machine)
    kubeconfig(machine["home"] / ".kube" / "config", "https://home.example:6443")
    api = k8s.connect()
    assert api.configuration.host == "https://home.example:6443" and api.in_cluster_namespace is None


def test_in_a_pod_the_service_account_wins_over_home_kubeconfig(machine):
    in_pod(machine)
    kubeconfig(machine["home"] / ".kube" / "config", "https://home.example:6443")
    (machine["sa"] / "token").write_text("sa-token")
    calls = []

    def load_in_cluster(configuration):   # the real one reads the kubelet's fixed paths
        calls.append(configuration)
        configuration.host = "https://10.0.0.1:443"
        return "ns1"

    machine["env"].setattr(k8s, "_load_in_cluster", load_in_cluster)
    api = k8s.connect()
    assert len(calls) == 1
    assert api.configuration.host == "https://10.0.0.1:443" and api.in_cluster_namespace == "ns1"


def test_an_explicit_kubeconfig_environment_wins_over_the_service_account(machine):
    in_pod(machine)
    (machine["sa"] / "token").write_text("sa-token")
    machine["env"].setenv("KUBECONFIG", kubeconfig(machine["tmp"] / "kc", "https://env.example:6443"))
    api = k8s.connect()
    assert api.configuration.host == "https://env.example:6443" and api.in_cluster_namespace is None


def test_the_kubeconfig_option_and_host_win_in_a_pod(machine):
    in_pod(machine)
    (machine["sa"] / "token").write_text("sa-token")
    option = kubeconfig(machine["tmp"] / "kc", "https://option.example:6443")
    assert k8s.connect(kubeconfig=option).configuration.host == "https://option.example:6443"
    api = k8s.connect(host="https://host.example:6443/", api_key="k")
    assert api.configuration.host == "https://host.example:6443" and api.in_cluster_namespace is None
