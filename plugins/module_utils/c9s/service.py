# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The c9s_apply module's work, without Ansible: present (apply, prune, wait) or absent
(remove).

run(params, check_mode) takes the module's parameters and returns its result dict; all
failures are LabError with a message for the user.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.k8s.client import Api, connect
from ansible_collections.skyforge.labs.plugins.module_utils.c9s import apply, owned
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.contract import C9S_RUN
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.manifests import load_manifests, peek_topology
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.remove import remove
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.wait import Baseline, definition_nodes, wait_ready

CONNECTION_OPTIONS = ("kubeconfig", "context", "host", "api_key", "ca_cert", "validate_certs")


def connect_from(params, dry_run=False):
    return Api(connect(**{k: params.get(k) for k in CONNECTION_OPTIONS}), dry_run=dry_run)


def run(params, check_mode=False):
    api = connect_from(params, dry_run=check_mode)
    try:
        if params["state"] == "absent":
            return _absent(api, params, check_mode)
        return _present(api, params, check_mode)
    finally:
        api.close()


def _present(api, params, check_mode):
    if not params.get("src"):
        raise LabError("state=present needs src: the manifests file skyforge.labs.c9s_render wrote")
    source_sha256 = apply.source_digest(params.get("source_sha256"))
    # list what the cluster holds while the (possibly large) manifests file is parsed
    prefetch = None
    peek = peek_topology(params["src"])
    if peek is not None:
        namespace = params.get("namespace") or peek["metadata"].get("namespace")
        name = peek["metadata"].get("name")
        if namespace and name:
            pool = ThreadPoolExecutor(max_workers=1)
            prefetch = (namespace, name, pool.submit(apply.list_configmaps, api, namespace, name))
            pool.shutdown(wait=False)
    lab = load_manifests(params["src"], params.get("namespace"), last=peek)
    existing = None
    if prefetch is not None and prefetch[:2] == (lab.namespace, lab.name):
        try:
            existing = prefetch[2].result()
        except LabError:  # e.g. a 403: reported in order (namespace first) by the real run below
            existing = None
    result = {"changed": False, "namespace": lab.namespace, "lab": lab.name, "objects": []}
    namespace_missing = False
    if params.get("create_namespace"):
        action = apply.ensure_namespace(api, lab.namespace, params["field_manager"])
        if action != "unchanged":
            result["objects"].append({"kind": "Namespace", "name": lab.namespace, "action": action})
        namespace_missing = check_mode and action == "created"
    api_version = apply.resolve_api_version(api, params["api_version"], lab.api_version)
    result["api_version"] = api_version
    if api_version == C9S_RUN and not namespace_missing:
        owned.check_node_names(api, lab.namespace, lab.name, definition_nodes(lab.topology))
    applier = apply.Applier(api, lab, api_version, params["field_manager"], force=params.get("force_conflicts"),
                            source_sha256=source_sha256)
    applier.run(prune=params.get("prune", True), namespace_missing=namespace_missing, existing_cms=existing)
    result["objects"].extend(applier.objects)
    result["changed"] = any(o["action"] != "unchanged" for o in result["objects"])
    result["diff"] = applier.diffs
    if params.get("wait") and not check_mode:
        baseline = Baseline(applier.topology_before, applier.topology_after, params["field_manager"],
                            applier.topology_spec_changed)
        result["readiness"] = wait_ready(api, api_version, lab.namespace, lab.name, baseline,
                                         definition_nodes(lab.topology), params["wait_timeout"])
    return result


def _absent(api, params, check_mode):
    if params.get("src"):
        lab = load_manifests(params["src"], params.get("namespace"))
        name, namespace = lab.name, lab.namespace
    else:
        # in a pod, the namespace defaults to the pod's own (its service account's namespace file)
        name, namespace = params.get("lab_name"), params.get("namespace") or api.in_cluster_namespace
        if not name or not namespace:
            raise LabError("state=absent needs src (the rendered manifests) or lab_name and namespace")
    requested = params.get("api_version") or "auto"
    if requested == "auto":
        api_versions = apply.served_topology_apis(api)
    else:
        api_versions = [requested] if requested in apply.served_topology_apis(api) else []
    objects = remove(api, name, namespace, api_versions, timeout=params["wait_timeout"])
    return {
        "changed": bool(objects), "objects": objects, "lab": name, "namespace": namespace,
        "api_version": api_versions[0] if len(api_versions) == 1 else (requested if requested != "auto" else None),
        "diff": [{"before_header": "%s/%s" % (o["kind"], o["name"]), "after_header": "(deleted)",
                  "before": {"kind": o["kind"], "name": o["name"]}, "after": {}} for o in objects],
    }
