# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one Kubernetes client of skyforge.labs: connect() from kubernetes.core-style options,
Api for raw JSON requests (no model (de)serialisation: fast, and custom resources are plain
dicts) with the 429 retry and dry run in one place, and API errors translated into LabError
messages that say what to do.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import time

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.client.rest import ApiException
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as exc:  # the module reports missing_required_lib
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = exc
    ApiException = None

try:
    import urllib3
    _TRANSPORT_ERRORS = (urllib3.exceptions.HTTPError, OSError)
except ImportError:
    _TRANSPORT_ERRORS = (OSError,)

ROLE_HINT = (
    "grant the shipped least-privilege Role (roles/cluster_access/files/role.yaml in the "
    "skyforge.labs collection; the skyforge.labs.cluster_access role binds it) to this user "
    "in that namespace"
)
CLUSTER_ROLE_HINT = (
    "namespace creation needs the shipped ClusterRole "
    "(roles/cluster_access/files/clusterrole-namespaces.yaml); or create the namespace "
    "beforehand and set create_namespace=false"
)
APPLY_PATCH = "application/apply-patch+yaml"
# where the kubelet mounts a pod's service-account token, CA and namespace (the kubernetes
# client reads the token and CA from there too)
SERVICEACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
RETRIES = 8


def _retry_after(exc):
    try:
        return min(max(float((exc.headers or {}).get("Retry-After", 1)), 0.2), 5.0)
    except (TypeError, ValueError):
        return 1.0


def connect(kubeconfig=None, context=None, host=None, api_key=None, ca_cert=None,
            validate_certs=None, pool_size=8):
    """A kubernetes ApiClient built the way kubernetes.core builds one.

    Where the connection comes from, first match wins:
    1. kubeconfig and/or context given: that kubeconfig (an error when it does not exist);
    2. host given: host/api_key/ca_cert/validate_certs alone;
    3. $KUBECONFIG set: that file;
    4. in a pod ($KUBERNETES_SERVICE_HOST set) with a service-account token mounted: in-cluster
       configuration (token, CA and namespace from SERVICEACCOUNT_DIR, the token re-read as the
       kubelet rotates it);
    5. ~/.kube/config.
    host/api_key/ca_cert/validate_certs given with 1 override what it loaded. The client's
    `in_cluster_namespace` is the pod's namespace with 4, else None.
    """
    if not HAS_KUBERNETES:
        raise LabError("the Python package 'kubernetes' is required (pip install 'kubernetes<37')")
    configuration = k8s_client.Configuration()
    namespace = None
    if kubeconfig or context or not host:
        namespace = _load_config(configuration, kubeconfig, context, explicit=bool(kubeconfig or context))
    if host:
        configuration.host = host.rstrip("/")
    if api_key:
        configuration.api_key = {"authorization": "Bearer " + api_key}
        configuration.api_key_prefix = {}
    if ca_cert:
        if not os.path.isfile(ca_cert):
            raise LabError("ca_cert %s does not exist; give the path of the cluster's CA "
                           "certificate (PEM)" % ca_cert)
        configuration.ssl_ca_cert = ca_cert
    if validate_certs is not None:
        configuration.verify_ssl = bool(validate_certs)
    if not configuration.host:
        raise LabError("no Kubernetes API server configured: set kubeconfig, or host and api_key")
    configuration.connection_pool_maxsize = pool_size
    configuration.retries = False
    api_client = k8s_client.ApiClient(configuration)
    api_client.in_cluster_namespace = namespace
    return api_client


def _load_config(configuration, kubeconfig, context, explicit):
    """Load a kubeconfig or the in-cluster configuration into configuration; returns the pod's
    namespace when it used the in-cluster configuration, else None."""
    if kubeconfig:
        path = os.path.expanduser(kubeconfig)
        if not os.path.isfile(path):
            raise LabError("kubeconfig %s does not exist; pass the path of a kubeconfig file "
                           "(or host + api_key)" % kubeconfig)
    elif os.environ.get("KUBECONFIG") or explicit or not in_pod():
        path = os.path.expanduser(os.environ.get("KUBECONFIG", "~/.kube/config").split(os.pathsep)[0])
    elif os.path.isfile(os.path.join(SERVICEACCOUNT_DIR, "token")):
        return _load_in_cluster(configuration)
    else:
        path = os.path.expanduser("~/.kube/config")
    if os.path.isfile(path):
        try:
            k8s_config.load_kube_config(config_file=path, context=context,
                                        client_configuration=configuration, persist_config=False)
        except Exception as exc:  # the client raises ConfigException, ValueError, YAML errors...
            raise LabError("cannot use kubeconfig %s%s: %s" % (
                path, " (context %s)" % context if context else "", exc))
        return None
    if explicit:
        raise LabError("context %s given but no kubeconfig file found at %s" % (context, path))
    if in_pod():
        raise LabError(
            "running in a pod (KUBERNETES_SERVICE_HOST is set) but no service-account token is "
            "mounted at %s and there is no kubeconfig (%s): let the pod mount its token "
            "(automountServiceAccountToken), or set the kubeconfig option, or host and api_key"
            % (os.path.join(SERVICEACCOUNT_DIR, "token"), path))
    raise LabError("no kubeconfig found (%s) and not running inside a cluster: set the "
                   "kubeconfig option, or host and api_key" % path)


def in_pod():
    """True where the kubelet started this process (or an ancestor): it sets these for every pod."""
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST") and os.environ.get("KUBERNETES_SERVICE_PORT"))


def _load_in_cluster(configuration):
    try:
        k8s_config.load_incluster_config(client_configuration=configuration)
    except Exception as exc:  # ConfigException: an empty CA file, an empty token...
        raise LabError("cannot use the pod's service account (%s, KUBERNETES_SERVICE_HOST=%s): %s"
                       % (SERVICEACCOUNT_DIR, os.environ.get("KUBERNETES_SERVICE_HOST"), exc))
    try:
        with open(os.path.join(SERVICEACCOUNT_DIR, "namespace")) as handle:
            return handle.read().strip() or None
    except (IOError, OSError):
        return None


MUTATING = ("POST", "PUT", "PATCH", "DELETE")


class Api:
    """JSON over HTTP through an ApiClient (thread-safe: urllib3 pool).

    dry_run: every mutating request carries dryRun=All, so the API server validates and
    admits it (and answers what it would store) without persisting anything.
    """

    def __init__(self, api_client, dry_run=False):
        self.client = api_client
        self.host = api_client.configuration.host
        # the pod's namespace when connected with its service account (in-cluster), else None
        self.in_cluster_namespace = getattr(api_client, "in_cluster_namespace", None)
        self.dry_run = dry_run

    def close(self):
        self.client.close()

    def request(self, method, path, body=None, query=None, content_type="application/json",
                timeout=30, stream=False, accept="application/json"):
        """The decoded JSON answer ({} when empty), or with stream=True the raw urllib3
        response (caller reads and releases it). Raises ApiException for HTTP errors (after
        retrying 429s) and LabError when the server cannot be reached."""
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type
        query = list(query or [])
        if self.dry_run and method in MUTATING:
            query.append(("dryRun", "All"))
        # adds the bearer token, refreshing exec/oidc credentials when the kubeconfig uses them
        self.client.update_params_for_auth(headers, [], ["BearerToken"])
        for attempt in range(RETRIES + 1):
            try:
                resp = self.client.rest_client.request(
                    method, self.host + path, query_params=query or None, headers=headers, body=body,
                    _preload_content=False, _request_timeout=timeout)
                break
            except ApiException as exc:
                if not exc.status:  # the client wraps TLS and connection failures as status 0
                    raise unreachable(self.host, exc.reason or exc)
                # 429: API priority and fairness, or a fresh CRD's cache still initialising
                if exc.status != 429 or attempt == RETRIES:
                    raise
                time.sleep(_retry_after(exc))
            except _TRANSPORT_ERRORS as exc:
                raise unreachable(self.host, exc)
        if stream:
            return resp
        raw = resp.data
        return json.loads(raw) if raw else {}

    def call(self, method, path, verb, resource, name=None, namespace=None, kind=None, **kwargs):
        """request(), with an HTTP error translated into a LabError naming verb and object."""
        try:
            return self.request(method, path, **kwargs)
        except ApiException as exc:
            raise translate(exc, verb, resource, name=name, namespace=namespace, host=self.host, kind=kind)

    def get_or_none(self, path, resource, name=None, namespace=None, kind=None, **kwargs):
        """GET the object, None when it does not exist (404)."""
        try:
            return self.request("GET", path, **kwargs)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise translate(exc, "get", resource, name=name, namespace=namespace, host=self.host, kind=kind)

    def list(self, path, resource, selector=None, namespace=None, kind=None):
        """The items of a LIST, sorted by name; selector is a label selector string."""
        query = [("labelSelector", selector)] if selector else None
        items = self.call("GET", path, "list", resource, namespace=namespace, kind=kind,
                          query=query).get("items") or []
        return sorted(items, key=lambda item: item["metadata"]["name"])


def unreachable(host, exc):
    reason = str(getattr(exc, "reason", None) or exc)
    if "CERTIFICATE_VERIFY_FAILED" in reason or "SSLError" in reason:
        return LabError(
            "TLS verification of the Kubernetes API at %s failed (%s): pass the cluster CA as "
            "ca_cert (or in the kubeconfig), or validate_certs=false for a throwaway cluster"
            % (host, _short(reason)))
    return LabError(
        "cannot reach the Kubernetes API at %s (%s): check that the cluster is running and "
        "that kubeconfig/host point at it" % (host, _short(reason)))


def _short(text, limit=300):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


def _status_body(exc):
    try:
        return json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        return {}


def translate(exc, verb, resource, name=None, namespace=None, host=None, kind=None):
    """An ApiException from `verb` on `resource` (plural, group-qualified) -> LabError."""
    status = getattr(exc, "status", None)
    body = _status_body(exc)
    message = body.get("message") or getattr(exc, "reason", "") or str(exc)
    causes = (body.get("details") or {}).get("causes") or []
    where = "%s%s" % ("%s/%s" % (kind or resource, name) if name else (kind or resource),
                      " in namespace %s" % namespace if namespace else "")
    if status == 401:
        return LabError(
            "the Kubernetes API%s rejected the credentials (401 Unauthorized) while trying to "
            "%s %s: the token is wrong or expired; check api_key or the kubeconfig user"
            % (" at " + host if host else "", verb, where), status=401)
    if status == 403:
        hint = CLUSTER_ROLE_HINT if resource == "namespaces" else ROLE_HINT
        return LabError(
            "forbidden (403): %s. This operation needs '%s' on '%s'%s; %s"
            % (message, verb, resource, " in namespace %s" % namespace if namespace else "", hint),
            status=403)
    if status == 409 and causes and any(c.get("reason") == "FieldManagerConflict" or
                                        c.get("type") == "FieldManagerConflict" for c in causes):
        return _conflict_error(where, causes)
    if status == 409:
        return LabError("conflict (409) on %s: %s; retry, the object changed meanwhile" % (where, message),
                        status=409)
    if status == 422:
        fields = ["%s: %s" % (c.get("field") or "?", c.get("message") or c.get("reason"))
                  for c in causes] or [message]
        return LabError(
            "the API server rejected %s (422 Invalid, schema of the installed CRD/API): %s. Fix "
            "the rendered manifest or re-render it for the API version the cluster serves"
            % (where, "; ".join(fields)), status=422, fields=[c.get("field") for c in causes])
    if status == 500 and "failed to create typed patch object" in message:
        # server-side apply reports fields the schema does not declare as a 500
        detail = message.split("): ", 1)[-1]
        return LabError(
            "the API server rejected %s: %s (not in the schema of the installed CRD/API). Fix "
            "the rendered manifest or re-render it for the API version the cluster serves"
            % (where, detail), status=422)
    if status == 404:
        return LabError("%s not found (404) while trying to %s it: %s" % (where, verb, message), status=404)
    if status is not None and status >= 500 or status == 0:
        return LabError("the Kubernetes API failed to %s %s (%s): %s" % (verb, where, status, _short(message)),
                        status=status)
    return LabError("cannot %s %s (%s): %s" % (verb, where, status, _short(message)), status=status)


_CONFLICT = re.compile(r'conflict with "([^"]+)"(?: using [^:]+)?(?:: *(.+))?')


def _conflict_error(where, causes):
    by_manager = {}
    for cause in causes:
        match = _CONFLICT.match(cause.get("message") or "")
        manager = match.group(1) if match else "another field manager"
        field = cause.get("field") or (match.group(2) if match else None) or "?"
        by_manager.setdefault(manager, []).append(field)
    owners = "; ".join("%s owns %s" % (m, ", ".join(sorted(f))) for m, f in sorted(by_manager.items()))
    return LabError(
        "field manager conflict applying %s: %s. Someone else changed these fields; "
        "re-run with force_conflicts=true to take them over (their change is overwritten), or "
        "stop the other writer" % (where, owners),
        status=409, managers=sorted(by_manager))
