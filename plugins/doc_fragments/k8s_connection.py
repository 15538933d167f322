# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Kubernetes connection options, named as kubernetes.core names them."""

    DOCUMENTATION = r'''
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file (E(K8S_AUTH_KUBECONFIG)).
      - "Where the connection comes from, first match wins: O(kubeconfig) and/or O(context)
        given: that kubeconfig; O(host) given: O(host), O(api_key), O(ca_cert) and
        O(validate_certs) alone; E(KUBECONFIG) set: that file; in a pod (E(KUBERNETES_SERVICE_HOST)
        set, as the kubelet does) with a service-account token mounted: the in-cluster
        configuration, that is the token, CA and namespace in
        C(/var/run/secrets/kubernetes.io/serviceaccount/) (a rotated token is re-read);
        finally C(~/.kube/config)."
      - Unlike kubernetes.core, an explicit E(KUBECONFIG) wins over the in-cluster
        configuration. A pod without a mounted token and without a kubeconfig is an error that
        says so.
      - O(host), O(api_key), O(ca_cert) and O(validate_certs) given together with a kubeconfig
        override what it sets.
    type: path
  context:
    description: Kubeconfig context to use (E(K8S_AUTH_CONTEXT)).
    type: str
  host:
    description: API server URL (E(K8S_AUTH_HOST)); overrides the kubeconfig.
    type: str
  api_key:
    description: Bearer token (E(K8S_AUTH_API_KEY)); overrides the kubeconfig.
    type: str
  ca_cert:
    description: Path to the cluster CA certificate (E(K8S_AUTH_SSL_CA_CERT)).
    type: path
  validate_certs:
    description: Verify the API server certificate (E(K8S_AUTH_VERIFY_SSL)).
    type: bool
'''
