# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: c9s_lab
short_description: The nodes of Clabernetes labs deployed by skyforge.labs, as netlab would list them
version_added: 0.2.0
author: skyforge.labs team (@skyforge)
description:
  - Hosts are the nodes of the labs this collection deployed (Topologies labelled
    C(app.kubernetes.io/managed-by=skyforge.labs)), with the variables netlab gave them
    (C(ansible_network_os), C(ansible_connection), C(ansible_user), credentials...) and netlab's
    groups, so playbooks written for a netlab lab run against the Clabernetes one.
  - C(ansible_host) is the address of the Service the Clabernetes controller made for the node
    (O(address)). Every host also gets C(c9s_lab), C(c9s_namespace), C(c9s_node), C(c9s_ready)
    and is in the group C(lab_<lab>).
  - The data is read from the cluster (a ConfigMap and a Secret that M(skyforge.labs.c9s_render)
    renders with each lab), so it needs no local file; as an AWX inventory source it takes the
    Kubernetes credential (the E(K8S_AUTH_*) variables).
  - What those objects say is treated as data, since anyone who may write to the namespace can
    change them. Only nodes of the lab's Topology become hosts, and of the C(ansible_*) variables
    only those netlab's devices use are set (C(ansible_connection) limited to remote connections
    such as C(network_cli), C(httpapi), C(netconf), C(ssh), C(paramiko) and C(docker);
    C(ansible_network_os), C(ansible_user), passwords, C(ansible_become*), ports,
    C(ansible_httpapi_use_ssl), C(ansible_httpapi_validate_certs), C(ansible_python_interpreter));
    anything else, such as C(ansible_ssh_common_args) or C(ansible_connection=local), is dropped
    with a warning. Strings are never templated.
  - An unreachable cluster or a namespace the token may not read is an error naming it, never an
    empty inventory.
  - The file name must end in C(c9s_lab.yml) or C(c9s_lab.yaml).
options:
  plugin:
    description: The name of this plugin.
    required: true
    choices: [skyforge.labs.c9s_lab]
    type: str
  namespaces:
    description: Namespaces to look in; empty means every namespace (needs a cluster-wide list).
    type: list
    elements: str
    default: []
  labs:
    description: Only these labs (Topology names); empty means all.
    type: list
    elements: str
    default: []
  address:
    description:
      - What C(ansible_host) is. C(service_ip) the Service's cluster IP, C(service_dns) its DNS
        name (C(<service>.<namespace>.svc)), C(load_balancer) its load balancer address (a node
        without one yet gets no C(ansible_host), with a warning).
    type: str
    choices: [service_ip, service_dns, load_balancer]
    default: service_ip
  prefix_lab:
    description: Name hosts C(<lab>_<node>) instead of C(<node>), for node names two labs share.
    type: bool
    default: false
  kubeconfig:
    description:
      - Path to a kubeconfig file. Without it and without O(host), as in the modules
        E(KUBECONFIG), then in a pod the in-cluster service account (token, CA), then
        C(~/.kube/config).
    type: path
    env: [{name: K8S_AUTH_KUBECONFIG}]
  context:
    description: Kubeconfig context to use.
    type: str
    env: [{name: K8S_AUTH_CONTEXT}]
  host:
    description: API server URL; overrides the kubeconfig.
    type: str
    env: [{name: K8S_AUTH_HOST}]
  api_key:
    description: Bearer token; overrides the kubeconfig.
    type: str
    env: [{name: K8S_AUTH_API_KEY}]
  ca_cert:
    description: Path to the cluster CA certificate.
    type: path
    env: [{name: K8S_AUTH_SSL_CA_CERT}]
  validate_certs:
    description: Verify the API server certificate.
    type: bool
    env: [{name: K8S_AUTH_VERIFY_SSL}]
extends_documentation_fragment:
  - constructed
  - inventory_cache
requirements:
  - kubernetes (Python client, < 37)
'''

EXAMPLES = r'''
# lab.c9s_lab.yml
plugin: skyforge.labs.c9s_lab
namespaces: [lab-a]
address: service_dns
keyed_groups:
  - key: ansible_network_os
    prefix: os
compose:
  ansible_port: 22
'''

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.helpers import get_group_vars
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.vars import combine_vars

from ansible_collections.skyforge.labs.plugins.module_utils.c9s.hosts import lab_hosts
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.k8s import client as k8s

CONNECTION = ("kubeconfig", "context", "host", "api_key", "ca_cert", "validate_certs")


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "skyforge.labs.c9s_lab"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(("c9s_lab.yml", "c9s_lab.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = cache and self.get_option("cache")
        data = None
        if use_cache:
            try:
                data = self._cache[cache_key]
            except KeyError:
                data = None
        if data is None:
            data = self._fetch()
            if self.get_option("cache"):
                self._cache[cache_key] = data
        self._populate(data)

    def _fetch(self):
        if not k8s.HAS_KUBERNETES:
            raise AnsibleError("the c9s_lab inventory needs the Python package kubernetes (<37): %s"
                               % k8s.KUBERNETES_IMPORT_ERROR)
        try:
            api = k8s.Api(k8s.connect(**dict((k, self.get_option(k)) for k in CONNECTION)))
            try:
                return lab_hosts(api, self.get_option("namespaces"), self.get_option("labs"),
                                 self.get_option("address"), self.get_option("prefix_lab"))
            finally:
                api.close()
        except LabError as exc:
            raise AnsibleParserError("skyforge.labs.c9s_lab: %s" % exc.message)

    def _populate(self, data):
        for warning in data.get("warnings") or []:
            self.display.warning(warning)
        strict = self.get_option("strict")
        for group, spec in sorted(data["groups"].items()):
            self.inventory.add_group(group)
            for key, value in sorted(spec["vars"].items()):
                self.inventory.set_variable(group, key, value)
        for host, hostvars in sorted(data["hosts"].items()):
            self.inventory.add_host(host)
            for key, value in sorted(hostvars.items()):
                self.inventory.set_variable(host, key, value)
        for group, spec in sorted(data["groups"].items()):
            for host in spec["hosts"]:
                self.inventory.add_child(group, host)
        for host, hostvars in sorted(data["hosts"].items()):
            # netlab puts ansible_network_os & co. on groups: compose and keyed_groups see them too
            found = self.inventory.get_host(host)
            merged = combine_vars(get_group_vars(found.get_groups()), found.get_vars())
            self._set_composite_vars(self.get_option("compose"), merged, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), merged, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), merged, host, strict=strict)
