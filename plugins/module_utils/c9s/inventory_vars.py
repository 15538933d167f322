# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which host and group variables a lab may hand to Ansible through the c9s_lab inventory.

A lab's inventory comes from a bundle and is read back from objects anyone with write access
to the namespace can change. Connection variables decide what runs on the controller
(`ansible_connection: local`, `ansible_ssh_common_args: -o ProxyCommand=...`, an
interpreter or key path on the controller), so only the `ansible_*` variables netlab's
device definitions set are let through, each with the values it may take. Every other
`ansible_*` variable is dropped with a message saying so; other variables are data (Ansible
never templates what an inventory plugin reads from the cluster).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_WORD = re.compile(r"^[A-Za-z0-9_.]{1,64}$")
_BOOL = frozenset((True, False, "yes", "no", "true", "false", "True", "False", 1, 0))
_CONNECTIONS = frozenset((
    "network_cli", "ansible.netcommon.network_cli", "httpapi", "ansible.netcommon.httpapi",
    "netconf", "ansible.netcommon.netconf", "paramiko", "paramiko_ssh", "ansible.builtin.paramiko_ssh",
    "ssh", "ansible.builtin.ssh", "docker", "community.docker.docker"))
# remote interpreters only (the connections above never run on the controller)
_INTERPRETER = re.compile(r"^(auto|auto_silent|auto_legacy|auto_legacy_silent|/[A-Za-z0-9_./-]{1,200})$")


def _text(value):
    return isinstance(value, str) and 0 < len(value) <= 1024 and "\n" not in value


def _port(value):
    return not isinstance(value, bool) and isinstance(value, int) and 0 < value < 65536


ALLOWED = {
    "ansible_connection": lambda v: v in _CONNECTIONS,
    "ansible_network_os": lambda v: isinstance(v, str) and bool(_WORD.match(v)),
    "ansible_user": _text,
    "ansible_ssh_pass": _text,
    "ansible_password": _text,
    "ansible_become": lambda v: v in _BOOL,
    "ansible_become_method": lambda v: v in ("enable", "sudo", "su"),
    "ansible_become_password": _text,
    "ansible_port": _port,
    "ansible_httpapi_port": _port,
    "ansible_httpapi_use_ssl": lambda v: v in _BOOL,
    "ansible_httpapi_validate_certs": lambda v: v in _BOOL,
    "ansible_python_interpreter": lambda v: isinstance(v, str) and bool(_INTERPRETER.match(v)),
}


def scalar(value):
    return value is None or isinstance(value, (str, bool, int, float))


def clean(variables, where):
    """(the variables a lab may set, [why each other one was dropped]); `where` names the
    host or group in the messages."""
    kept, dropped = {}, []
    for key, value in sorted((variables or {}).items(), key=lambda item: str(item[0])):
        name = str(key)
        if not _NAME.match(name) or not scalar(value):
            dropped.append("%s: variable %r dropped (a lab's variables are scalars with identifier names)"
                           % (where, name[:80]))
        elif name.startswith("ansible_") and name not in ALLOWED:
            dropped.append("%s: %s dropped: a lab's inventory may set only %s; set it in your own "
                           "inventory or group_vars if you need it" % (where, name, ", ".join(sorted(ALLOWED))))
        elif name in ALLOWED and not ALLOWED[name](value):
            dropped.append("%s: %s=%r dropped: not a value skyforge.labs passes on for it"
                           % (where, name, str(value)[:80]))
        else:
            kept[name] = value
    return kept, dropped
