# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Take a lab out of a cluster: its Topology first, then the ConfigMaps it mounted and its
credentials Secret, then
wait for the garbage collector to remove what the controller made for the Topology."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.skyforge.labs.plugins.module_utils.c9s import owned
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.apply import WORKERS, delete_object, list_labelled, object_path
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.contract import lab_selector, resource_of, topology_path
from ansible_collections.skyforge.labs.plugins.module_utils.k8s.waiter import wait_gone


def remove(api, lab, namespace, api_versions, timeout=300):
    """Delete the lab's Topology(ies), then its ConfigMaps, and (not in a dry run) wait until
    they are gone and the garbage collector removed what the controller made for each
    Topology (c9s.owned). -> [{kind, name, action: deleted[, api_version, by]}]"""
    objects = []
    gone = []
    made = dict(((api_version, lab), []) for api_version in api_versions)
    selector = lab_selector(lab)
    for api_version in api_versions:
        resource = resource_of("Topology", api_version)
        for topo in api.list(topology_path(api_version, namespace), resource, selector, namespace=namespace,
                             kind="Topology"):
            name = topo["metadata"]["name"]
            # listed first: the garbage collector may remove some before we look again
            made[(api_version, name)] = owned.dependents(api, api_version, namespace, name)[0]
            if delete_object(api, "Topology", topo, api_version, namespace):
                objects.append({"kind": "Topology", "name": name, "action": "deleted", "api_version": api_version})
                gone.append((topology_path(api_version, namespace, name), resource, "Topology", name))
    if not api.dry_run:  # ConfigMaps go only after the Topology that mounts them
        wait_gone(api, gone, namespace, timeout)
    found = [obj for kind in ("ConfigMap", "Secret")
             for _name, obj in sorted(list_labelled(api, kind, namespace, lab).items())]

    def delete_one(obj):
        return obj, delete_object(api, obj["kind"], obj, "v1", namespace)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        deleted = [obj for obj, existed in pool.map(delete_one, found) if existed]
    for obj in deleted:
        objects.append({"kind": obj["kind"], "name": obj["metadata"]["name"], "action": "deleted"})
    if not api.dry_run:
        wait_gone(api, [(object_path(o["kind"], namespace, o["metadata"]["name"]), resource_of(o["kind"], "v1"),
                         o["kind"], o["metadata"]["name"]) for o in deleted], namespace, timeout)
    # what the controller made for the Topology goes with it, through the garbage collector
    for api_version, name in sorted(made):
        objects.extend(owned.wait_collected(api, api_version, namespace, name, timeout, api.dry_run,
                                            made[(api_version, name)]))
    return objects
