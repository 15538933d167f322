# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Advice for c9s_render's warnings about what netlab generated: the netlab settings that
make a warning go away, written so they can be passed to the playbooks as they are.

netlab decides a node's /etc/hosts bind and its configuration mode per device
(`defaults.devices.<device>.clab...`); the device of a node is read from the hosts.yml
netlab wrote (the group whose entry for the node carries its `id`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.skyforge.labs.plugins.module_utils.common.yaml_text import HAS_YAML, load as load_yaml

# netlab binds its generated hosts file here when told to keep it off /etc/hosts
HOSTS_ELSEWHERE = "/etc/netlab-hosts:shared"


def node_devices(lab):
    """{node: netlab device} from the lab's hosts.yml; {} for a lab netlab did not write."""
    try:
        data = load_yaml(lab.read("hosts.yml")) if HAS_YAML else None
    except Exception:  # no hosts.yml, or not netlab's: fall back to generic advice
        return {}
    devices = {}
    for group, body in (data or {}).items() if isinstance(data, dict) else ():
        hosts = (body or {}).get("hosts") if isinstance(body, dict) else None
        for node, entry in (hosts or {}).items() if isinstance(hosts, dict) else ():
            if isinstance(entry, dict) and "id" in entry:
                devices[node] = group
    return devices


def settings_advice(settings):
    """How to pass netlab settings: the playbooks' extra var and netlab's own -s form."""
    extra = json.dumps({"netlab_settings": settings}, sort_keys=True)
    cli = " ".join("-s %s=%s" % item for item in sorted(settings.items()))
    return "-e '%s' with the playbooks (netlab create: %s)" % (extra, cli)


def hosts_bind_advice(lab, nodes):
    devices = node_devices(lab)
    if not all(node in devices for node in nodes):
        return "remove the /etc/hosts bind of these nodes from clab.yml"
    settings = dict(("defaults.devices.%s.clab.node.config_templates.hosts" % devices[node], HOSTS_ELSEWHERE)
                    for node in nodes)
    return ("have netlab bind its hosts file elsewhere (name resolution then comes from the pod): "
            + settings_advice(settings))


def ns_scripts_advice(lab, scripts):
    """scripts: {node: [script names]}."""
    devices = node_devices(lab)
    settings = {}
    for node, names in scripts.items():
        for name in names:
            settings["defaults.devices.%s.clab.node_config.%s" % (devices.get(node, "linux"), name)] = ":sh"
    return ("have netlab mount them instead (config mode 'sh', at /etc/cfg-<n>-<script>.sh, to run with "
            "'sh' in the node after deploy): " + settings_advice(settings))
