# -*- coding: utf-8 -*-
"""Error translation of kubernetes ApiExceptions (real exception objects, no server)."""

import json

from kubernetes.client.rest import ApiException

from ansible_collections.skyforge.labs.plugins.module_utils.k8s.client import translate, unreachable


def api_error(status, body):
    exc = ApiException(status=status, reason="x")
    exc.body = json.dumps(body)
    return exc


def test_403_names_verb_resource_namespace_and_the_role():
    exc = api_error(403, {"message": 'configmaps is forbidden: User "u" cannot list resource "configmaps"'})
    message = translate(exc, "list", "configmaps", namespace="lab").message
    assert "'list' on 'configmaps' in namespace lab" in message
    assert "roles/cluster_access/files/role.yaml" in message


def test_403_on_namespaces_points_at_the_cluster_role():
    message = translate(api_error(403, {"message": "no"}), "patch", "namespaces", name="lab").message
    assert "clusterrole-namespaces.yaml" in message and "create_namespace=false" in message


def test_conflict_names_fields_and_managers():
    body = {"message": "Apply failed with 2 conflicts", "details": {"causes": [
        {"reason": "FieldManagerConflict", "message": 'conflict with "kubectl-edit"', "field": ".data.b"},
        {"reason": "FieldManagerConflict", "message": 'conflict with "kubectl-edit" using v1', "field": ".data.a"}]}}
    error = translate(api_error(409, body), "patch", "configmaps", name="c", namespace="n", kind="ConfigMap")
    assert "kubectl-edit owns .data.a, .data.b" in error.message
    assert "ConfigMap/c in namespace n" in error.message and "force_conflicts=true" in error.message


def test_422_lists_field_paths():
    body = {"message": "invalid", "details": {"causes": [
        {"reason": "FieldValueNotSupported", "message": 'Unsupported value: "write"', "field": "spec.x[0].mode"}]}}
    error = translate(api_error(422, body), "patch", "topologies.c9s.run", name="t", kind="Topology")
    assert "Topology/t" in error.message and "spec.x[0].mode: Unsupported value" in error.message
    assert error.details["fields"] == ["spec.x[0].mode"]


def test_unreachable_and_tls_messages():
    assert "cannot reach the Kubernetes API at https://h:1" in unreachable("https://h:1", OSError("refused")).message
    tls = unreachable("https://h:1", OSError("[SSL: CERTIFICATE_VERIFY_FAILED] bad")).message
    assert "ca_cert" in tls and "validate_certs" in tls
