# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""c9s_render's argument_spec and the call it makes, shared by the module (run on a target)
and its action plugin (run in the controller process when the task runs there)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.skyforge.labs.plugins.module_utils.c9s.contract import API_VERSIONS, NAMING
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.output import render
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.plan import DEFAULT_MAX_CONFIGMAP_BYTES

ARGUMENT_SPEC = dict(
    src=dict(type="path", required=True),
    dest=dict(type="path", required=True),
    namespace=dict(type="str", required=True),
    name=dict(type="str"),
    api_version=dict(type="str", default=API_VERSIONS[0], choices=list(API_VERSIONS)),
    max_configmap_bytes=dict(type="int", default=DEFAULT_MAX_CONFIGMAP_BYTES),
    large_file_url=dict(type="str"),
    labels=dict(type="dict", default={}),
    expose=dict(type="dict"),
    status_probes=dict(type="dict"),
    naming=dict(type="str", default="global", choices=list(NAMING)),
    return_details=dict(type="bool", default=False),
)


def render_params(params, check_mode, diff):
    """output.render with validated task parameters; raises LabError on bad input."""
    return render(
        params["src"], params["dest"], params["namespace"], check_mode=check_mode, diff=diff,
        name=params["name"], api_version=params["api_version"],
        max_configmap_bytes=params["max_configmap_bytes"], large_file_url=params["large_file_url"],
        labels=params["labels"], expose=params["expose"], status_probes=params["status_probes"],
        naming=params["naming"], return_details=params["return_details"])
