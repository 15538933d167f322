# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Save the logs of a lab's Clabernetes launcher pods into a directory.

Launcher pods carry `clabernetes/topologyOwner=<topology>`. Each container's log is
streamed (bounded by `limit_bytes`) to `<dest>/<pod>/<container>.log` through a temp file;
a pod whose containers have no log yet (Pending, not scheduled) is listed with the reason
instead of failing the whole collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.common.files import AtomicFile, sha256_file
from ansible_collections.skyforge.labs.plugins.module_utils import k8s

OWNER_LABEL = "clabernetes/topologyOwner"
DEFAULT_LIMIT = 10 * 1024 * 1024
CHUNK = 64 * 1024


def _get(api_client, path, query, stream):
    """A raw GET (auth applied); returns the urllib3 response, raising ApiException on error."""
    headers = {"Accept": "application/json, */*"}
    api_client.update_params_for_auth(headers, [], ["BearerToken"])
    return api_client.rest_client.request("GET", api_client.configuration.host + path, query_params=query,
                                          headers=headers, _preload_content=False, _request_timeout=60)


def list_launcher_pods(api_client, namespace, topology):
    import json
    path = "/api/v1/namespaces/%s/pods" % namespace
    try:
        resp = _get(api_client, path, [("labelSelector", "%s=%s" % (OWNER_LABEL, topology))], False)
    except Exception as exc:
        raise _translate(api_client, exc, "list", "pods", None, namespace)
    return sorted(json.loads(resp.data or b"{}").get("items", []), key=lambda p: p["metadata"]["name"])


def _translate(api_client, exc, verb, resource, name, namespace):
    if k8s.ApiException is not None and isinstance(exc, k8s.ApiException):
        if not exc.status:
            return k8s.unreachable(api_client.configuration.host, exc.reason or exc)
        return k8s.translate(exc, verb, resource, name, namespace, api_client.configuration.host)
    if isinstance(exc, k8s._TRANSPORT_ERRORS):
        return k8s.unreachable(api_client.configuration.host, exc)
    return exc


def _save(resp, target):
    """Stream `resp` into `target` (common.files guarantee); True when the content changed."""
    try:
        with AtomicFile(target) as out:
            for chunk in resp.stream(CHUNK):
                out.write(chunk)
            if os.path.isfile(target) and sha256_file(target) == out.hexdigest():
                out.discard()
                return False
    finally:
        resp.release_conn()
    return True


def collect_pod_logs(api_client, namespace, topology, dest, limit_bytes=DEFAULT_LIMIT):
    """{"files": [...], "unavailable": [{pod, container, reason}], "changed": bool}."""
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise LabError("pod log dest %s exists and is not a directory: give a directory" % dest)
    files, unavailable, changed = [], [], False
    for pod in list_launcher_pods(api_client, namespace, topology):
        name = pod["metadata"]["name"]
        spec = pod.get("spec") or {}
        for container in spec.get("containers", []):
            cname = container["name"]
            if not spec.get("nodeName"):
                # the API server answers an empty 200 for unscheduled pods: say why instead
                unavailable.append({"pod": name, "container": cname, "reason": "pod is not scheduled on a node "
                                    "(phase %s)" % (pod.get("status") or {}).get("phase", "unknown")})
                continue
            path = "/api/v1/namespaces/%s/pods/%s/log" % (namespace, name)
            try:
                resp = _get(api_client, path, [("container", cname), ("limitBytes", str(limit_bytes))], True)
            except Exception as exc:
                status = getattr(exc, "status", None)
                if status in (400, 404):  # not scheduled / not started yet / gone meanwhile
                    unavailable.append({"pod": name, "container": cname, "reason": _reason(exc)})
                    continue
                raise _translate(api_client, exc, "get", "pods/log", name, namespace)
            target = os.path.join(dest, name, cname + ".log")
            changed = _save(resp, target) or changed
            files.append(target)
    return {"files": files, "unavailable": unavailable, "changed": changed}


def _reason(exc):
    import json
    try:
        return json.loads(exc.body).get("message") or str(exc.reason)
    except Exception:
        return str(getattr(exc, "reason", exc))
