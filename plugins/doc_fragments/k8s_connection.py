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
      - Path to a kubeconfig file. Defaults to E(K8S_AUTH_KUBECONFIG), then E(KUBECONFIG) or
        C(~/.kube/config), then the in-cluster service account.
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
