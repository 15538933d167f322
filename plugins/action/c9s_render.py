# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""c9s_render: render in the controller process when the task runs on the controller.

A module task pays for AnsiballZ, a new interpreter and its imports (~1 s, more than the
render of a 1,000-node lab); like ansible.builtin.template, this runs the same library call
where the task would have run it anyway.  Any other target (a remote host, become, async,
a task environment) goes through the module unchanged."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.plugins.action import ActionBase

from ansible_collections.skyforge.labs.plugins.module_utils.c9s.render_args import ARGUMENT_SPEC, render_params
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = True

    def _in_process(self):
        return (self._connection.transport == "local" and not self._play_context.become
                and not self._task.async_val and not any(self._task.environment or ()))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        if not self._in_process():     # as ansible.builtin.normal runs a module
            wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
            result.update(self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            return result
        _validation, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        # plain values, as a module receives them: the renderer's YAML emitter knows str and
        # dict, not ansible-core's tagged (templated) subclasses of them
        params = json.loads(json.dumps(params))
        try:
            rendered = render_params(params, bool(self._task.check_mode), bool(self._task.diff))
        except LabError as exc:
            result.update(failed=True, msg=exc.message)
            return result
        warnings = rendered.pop("warnings")
        if warnings:
            result["warnings"] = warnings
        result.update(rendered)
        return result
