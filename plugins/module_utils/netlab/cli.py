# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the netlab CLI (PyPI `networklab`) in a subprocess, non-interactively.

netlab's Python API keeps global state and changes directory, so it is only ever run as
a separate process: stdin closed, HOME pointed at a private directory (netlab writes
`~/.netlab/*` even for `create`), inherited `NETLAB_*` variables removed so only the
caller's `environment` shapes the result, a timeout that kills the whole process group,
and netlab's own output in the error when it fails.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError

from ansible_collections.skyforge.labs.plugins.module_utils.common.yaml_text import HAS_YAML, YAMLError, load as load_yaml

INSTALL_HINT = "install it with 'pip install networklab' into the Python that runs Ansible, or put it on PATH"
OUTPUT_TAIL = 4000
_ENV_KEY = re.compile(r"^NETLAB_[A-Za-z0-9_]+$")
_SETTING_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def find_netlab(path=None):
    """The netlab executable: next to sys.executable (the venv Ansible runs in), then PATH."""
    beside = os.path.join(os.path.dirname(os.path.abspath(sys.executable)), "netlab")
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("netlab", path=path)
    if found:
        return found
    raise LabError("the netlab CLI was not found next to %s or on PATH; %s"
                   % (sys.executable, INSTALL_HINT))


def netlab_version(executable, timeout=60):
    """netlab's version string, from `netlab version` (falls back to package metadata)."""
    home = tempfile.mkdtemp(prefix="netlab-home-")
    try:
        result = run_netlab([executable, "version"], home, netlab_env(home), timeout)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    match = re.search(r"netlab version\s+(\S+)", result.stdout)
    if result.returncode == 0 and match:
        return match.group(1)
    try:
        from importlib.metadata import version
        return version("networklab")
    except Exception:  # pylint: disable=broad-except
        raise LabError("cannot tell the netlab version: `%s version` exited %s: %s"
                       % (executable, result.returncode, tail(result.stderr or result.stdout)))


def check_topology(path):
    """Read the topology, make sure it is a YAML mapping; return its bytes."""
    if not os.path.exists(path):
        raise LabError("topology %s does not exist; check the `topology` path (relative paths "
                       "resolve against the playbook's working directory)" % path, path=path)
    if not os.path.isfile(path):
        raise LabError("topology %s is not a file; point `topology` at a netlab topology YAML file"
                       % path, path=path)
    with open(path, "rb") as handle:
        raw = handle.read()
    if not HAS_YAML:
        return raw
    try:
        data = load_yaml(raw)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = "%s line %d column %d" % (path, mark.line + 1, mark.column + 1) if mark else path
        problem = getattr(exc, "problem", None) or str(exc)
        raise LabError("topology %s is not valid YAML at %s: %s; fix the YAML syntax there"
                       % (path, where, problem), path=path)
    if not isinstance(data, dict):
        raise LabError("topology %s must be a YAML mapping (nodes:, links:, ...), got %s; "
                       "check that this is a netlab topology file"
                       % (path, type(data).__name__), path=path)
    return raw


def _setting_value(key, value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    raise LabError("settings.%s: netlab `-s key=value` takes a scalar, got %s; put structured "
                   "values into a file passed with `defaults`" % (key, type(value).__name__),
                   field="settings")


def settings_args(settings):
    """`-s key=value` arguments in sorted key order (netlab splits on every '=')."""
    args = []
    for key in sorted(settings or {}):
        value = _setting_value(key, settings[key])
        if not _SETTING_KEY.match(str(key)):
            raise LabError("settings key %r is not a dotted netlab attribute path "
                           "(e.g. defaults.device, nodes.r1.id)" % (key,), field="settings")
        if "=" in value or "\n" in value:
            raise LabError("settings.%s value %r contains '=' or a newline, which netlab's "
                           "`-s key=value` cannot carry; use a `defaults` file instead"
                           % (key, value), field="settings")
        args += ["-s", "%s=%s" % (key, value)]
    return args


def create_command(executable, topology, provider, settings=None, plugins=None, defaults=None):
    """argv for `netlab create` with an absolute topology path."""
    argv = [executable, "create", os.path.abspath(topology), "-p", provider]
    argv += settings_args(settings)
    for plugin in plugins or []:
        if not plugin or not isinstance(plugin, str) or plugin.startswith("-"):
            raise LabError("plugins: %r is not a netlab plugin name" % (plugin,), field="plugins")
        argv += ["--plugin", plugin]
    for path in defaults or []:
        if not os.path.isfile(path):
            raise LabError("defaults file %s does not exist; fix the `defaults` list" % path,
                           path=path, field="defaults")
        argv += ["--defaults", os.path.abspath(path)]
    return argv


def check_environment(environment):
    """Validate the extra variables; only NETLAB_* names are accepted."""
    clean = {}
    for key in sorted(environment or {}):
        if not _ENV_KEY.match(str(key)):
            raise LabError("environment key %r is not a NETLAB_* variable; only NETLAB_<NAME> "
                           "variables (e.g. NETLAB_DEVICE) are passed to netlab" % (key,),
                           field="environment")
        value = environment[key]
        if isinstance(value, bool):
            value = "true" if value else "false"
        clean[str(key)] = str(value)
    return clean


def _base_env():
    return dict((k, v) for k, v in os.environ.items() if not k.startswith("NETLAB_"))


def netlab_env(home, environment=None):
    """The child's environment: ours minus NETLAB_*, private HOME, then the caller's NETLAB_*."""
    env = _base_env()
    env["HOME"] = home
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(check_environment(environment))
    return env


def tail(text, limit=OUTPUT_TAIL):
    """The last `limit` characters of text: netlab's error sits at the end."""
    text = (text or "").strip()
    return text if len(text) <= limit else "...\n" + text[-limit:]


def run_netlab(argv, cwd, env, timeout):
    """Run argv in its own process group; on timeout kill the whole group and raise."""
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
    except OSError as exc:
        raise LabError("cannot run %s: %s; %s" % (argv[0], exc, INSTALL_HINT))
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        stdout, stderr = proc.communicate()
        raise LabError("`%s` did not finish within %s seconds and was killed; raise `timeout` or "
                       "make the topology smaller. Output so far:\n%s"
                       % (" ".join(argv[1:3]), timeout, tail(_text(stderr) or _text(stdout))),
                       stdout=_text(stdout), stderr=_text(stderr))
    except BaseException:
        _kill_group(proc)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(argv, proc.returncode, _text(stdout), _text(stderr))


def _text(data):
    return (data or b"").decode("utf-8", "replace")


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
