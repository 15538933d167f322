"""What the kubelet gives a pod, for a process on this machine: a real ServiceAccount token
(TokenRequest API) for an account bound to the shipped least-privilege Role, and the files
at /var/run/secrets/kubernetes.io/serviceaccount/ in a private mount namespace (`unshare
--mount`, a tmpfs over /var/run: nothing on the host changes and the mounts die with the
process), the way tests/controlplane/manager.py runs the Clabernetes manager. The caller sets
KUBERNETES_SERVICE_HOST/PORT in the process's environment (`pod_env`).
"""

import os
import shutil

import yaml

from tests.ci import unavailable

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

# argv: the files directory, then the command; copies the files that exist
WRAPPER = r"""set -eu
files=$1; shift
mount -t tmpfs -o mode=0755,size=1m skyforge-pod /var/run
mkdir -p %(sa)s
for name in token ca.crt namespace; do
  if [ -e "$files/$name" ]; then cp "$files/$name" %(sa)s/; fi
done
exec "$@"
""" % {"sa": SA_DIR}


def require_unshare():
    if os.geteuid() != 0 or not shutil.which("unshare"):
        unavailable("giving a process a pod's service-account files needs root and unshare "
                    "(a private mount namespace)")


def service_account_files(control_plane, api_client, namespace, account, directory):
    """Create `account` in `namespace`, bind the shipped Role to it there, and write the
    files the kubelet would mount (token, ca.crt, namespace) into `directory`."""
    from kubernetes import client

    core, rbac = client.CoreV1Api(api_client), client.RbacAuthorizationV1Api(api_client)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": account}})
    with open(os.path.join(REPO, "roles", "cluster_access", "files", "role.yaml")) as handle:
        role = yaml.safe_load(handle)
    rbac.create_namespaced_role(namespace, role)
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": account},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role["metadata"]["name"]},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}]})
    token = core.create_namespaced_service_account_token(
        account, namespace, {"spec": {"expirationSeconds": 3600}}).status.token
    os.makedirs(str(directory), exist_ok=True)
    for name, data in (("token", token), ("ca.crt", control_plane.ca_pem.decode()), ("namespace", namespace)):
        with open(os.path.join(str(directory), name), "w") as handle:
            handle.write(data)
    return str(directory)


def in_pod_argv(files, argv):
    """argv run with the service-account files mounted where the kubelet puts them."""
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", WRAPPER, "sh", str(files)] + list(argv)


def pod_env(control_plane, environ):
    """environ without any kubeconfig, with the service address the kubelet sets in every pod."""
    env = {k: v for k, v in environ.items() if k != "KUBECONFIG" and not k.startswith("K8S_AUTH_")}
    env.update(KUBERNETES_SERVICE_HOST="127.0.0.1", KUBERNETES_SERVICE_PORT=str(control_plane.port))
    return env
