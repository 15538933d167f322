# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Save the logs of a lab's Clabernetes launcher pods into a directory.

Launcher pods carry the controller's owner label (contract.TOPOLOGY_OWNER). Each container's log is
streamed (bounded by `limit_bytes`) to `<dest>/<pod>/<container>.log` (common.files);
a pod whose containers have no log yet (Pending, not scheduled) is listed with the reason
instead of failing the whole collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.skyforge.labs.plugins.module_utils.c9s.contract import owner_selector
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.common.files import AtomicFile, sha256_file
from ansible_collections.skyforge.labs.plugins.module_utils.k8s.client import ApiException, translate

DEFAULT_LIMIT = 10 * 1024 * 1024
CHUNK = 64 * 1024


def list_launcher_pods(api, namespace, topology):
    return api.list("/api/v1/namespaces/%s/pods" % namespace, "pods", owner_selector(topology),
                    namespace=namespace)


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


def collect_pod_logs(api, namespace, topology, dest, limit_bytes=DEFAULT_LIMIT):
    """Save every launcher container's log under dest through `api` (a k8s.client.Api).

    -> {"files": [...], "unavailable": [{pod, container, reason}], "changed": bool}."""
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise LabError("pod log dest %s exists and is not a directory: give a directory" % dest)
    files, unavailable, changed = [], [], False
    for pod in list_launcher_pods(api, namespace, topology):
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
                resp = api.request("GET", path, query=[("container", cname), ("limitBytes", str(limit_bytes))],
                                   stream=True, accept="application/json, */*", timeout=60)
            except ApiException as exc:
                if exc.status in (400, 404):  # not scheduled / not started yet / gone meanwhile
                    unavailable.append({"pod": name, "container": cname, "reason": _reason(exc)})
                    continue
                raise translate(exc, "get", "pods/log", name, namespace, api.host)
            target = os.path.join(dest, name, cname + ".log")
            changed = _save(resp, target) or changed
            files.append(target)
    return {"files": files, "unavailable": unavailable, "changed": changed}


def _reason(exc):
    try:
        return json.loads(exc.body).get("message") or str(exc.reason)
    except (TypeError, ValueError, AttributeError):
        return str(exc.reason)
