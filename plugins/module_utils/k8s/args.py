# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The argument spec of the Kubernetes connection options (doc fragment k8s_connection).

The K8S_AUTH_* fallbacks are what AWX's Kubernetes credential injects.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import env_fallback

CONNECTION_ARGUMENT_SPEC = dict(
    kubeconfig=dict(type="path", fallback=(env_fallback, ["K8S_AUTH_KUBECONFIG"])),
    context=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_CONTEXT"])),
    host=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_HOST"])),
    api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["K8S_AUTH_API_KEY"])),
    ca_cert=dict(type="path", fallback=(env_fallback, ["K8S_AUTH_SSL_CA_CERT"])),
    validate_certs=dict(type="bool", fallback=(env_fallback, ["K8S_AUTH_VERIFY_SSL"])),
)


def with_connection_args(**spec):
    """spec plus the connection options."""
    spec.update(CONNECTION_ARGUMENT_SPEC)
    return spec
