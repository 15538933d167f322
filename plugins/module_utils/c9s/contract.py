# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What render and apply must agree on, written once: the Clabernetes API versions, the
labels that mark a lab's objects (apply prunes and deletes by them), and where the
objects live in the API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

C9S_RUN = "c9s.run/v1alpha1"                          # Clabernetes v0.7+
V06 = "clabernetes.containerlab.dev/v1alpha1"         # Clabernetes up to v0.6
API_VERSIONS = (C9S_RUN, V06)                         # the first is c9s_render's default
TOPOLOGY_GROUPS = {C9S_RUN: ("c9s.run", "v1alpha1"), V06: ("clabernetes.containerlab.dev", "v1alpha1")}
NAMING = ("global", "prefixed", "non-prefixed")

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "skyforge.labs"
LAB_LABEL = "skyforge.labs/lab"
COMPONENT_LABEL = "skyforge.labs/component"
# what the inventory plugin and lab_info read back: a ConfigMap of the netlab host data and a
# Secret of the credentials netlab generated, both named inventory_name(<topology>)
INVENTORY_COMPONENT = "inventory"
CREDENTIALS_COMPONENT = "credentials"
INVENTORY_KEY = "inventory.json"
CREDENTIALS_KEY = "credentials.json"
# the sha256 of the lab bundle a Topology was rendered from, set by c9s_apply (source_sha256):
# the render itself stays the same for a bundle and its unpacked directory
SOURCE_DIGEST = "skyforge.labs/source-sha256"
# the prefix of the labels the Clabernetes controller puts on what it makes for a Topology
_CONTROLLER_LABELS = {C9S_RUN: "c9s.run", V06: "clabernetes"}


def lab_labels(lab):
    """The labels every object of lab carries (render sets them, apply checks them)."""
    return {MANAGED_BY: MANAGED_BY_VALUE, LAB_LABEL: lab}


def lab_selector(lab):
    """The label selector of lab's objects."""
    return ",".join("%s=%s" % item for item in sorted(lab_labels(lab).items()))


def owner_label(api_version):
    """The label naming the Topology that owns a controller-made object (launchers, pods)."""
    return "%s/topologyOwner" % _CONTROLLER_LABELS[api_version]


def node_label(api_version):
    """The label naming the containerlab node a controller-made object is for."""
    return "%s/topologyNode" % _CONTROLLER_LABELS[api_version]


def owner_selector(topology, api_version=V06):
    """The label selector of what the controller made for a Topology."""
    return "%s=%s" % (owner_label(api_version), topology)


def managed_selector():
    """The label selector of every object this collection manages (any lab)."""
    return "%s=%s" % (MANAGED_BY, MANAGED_BY_VALUE)


def inventory_name(topology):
    """The name of a lab's inventory ConfigMap and credentials Secret."""
    return "%s-inventory" % topology


def cm_path(namespace, name=None):
    return "/api/v1/namespaces/%s/configmaps%s" % (namespace, "/" + name if name else "")


def secret_path(namespace, name=None):
    return "/api/v1/namespaces/%s/secrets%s" % (namespace, "/" + name if name else "")


def topology_path(api_version, namespace, name=None):
    """namespace None: the Topologies of every namespace (a cluster-wide list)."""
    group, version = TOPOLOGY_GROUPS[api_version]
    where = "namespaces/%s/" % namespace if namespace else ""
    return "/apis/%s/%s/%stopologies%s" % (group, version, where, "/" + name if name else "")


def resource_of(kind, api_version):
    """The resource name an RBAC rule (and an error message) uses for kind."""
    if kind == "Namespace":
        return "namespaces"
    if kind == "Secret":
        return "secrets"
    return "configmaps" if kind == "ConfigMap" else "topologies.%s" % TOPOLOGY_GROUPS[api_version][0]
