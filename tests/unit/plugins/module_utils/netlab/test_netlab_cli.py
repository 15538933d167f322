"""The netlab CLI runner: discovery, argument building, input checks and the timeout kill.

Everything runs the real `netlab` from the venv, except the process-group kill test, which
needs a child process that outlives its parent and uses a clearly named stand-in script.
"""

import os
import stat
import sys
import textwrap
import time

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.netlab import cli as netlab
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError

VENV_NETLAB = os.path.join(os.path.dirname(sys.executable), "netlab")


def test_finds_the_netlab_next_to_the_running_python():
    assert netlab.find_netlab() == VENV_NETLAB


def test_missing_netlab_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(netlab.sys, "executable", str(tmp_path / "python"))
    with pytest.raises(LabError) as err:
        netlab.find_netlab(path=str(tmp_path))
    assert "pip install networklab" in err.value.message


def test_version_comes_from_the_cli():
    assert netlab.netlab_version(VENV_NETLAB) == "26.10"


def test_create_command_is_ordered_and_absolute(tmp_path):
    defaults = tmp_path / "d.yml"
    defaults.write_text("{}\n")
    argv = netlab.create_command("netlab", "lab/topology.yml", "clab",
                                 {"nodes.r1.id": 7, "defaults.device": "frr", "addressing.x": True},
                                 ["multilab"], [str(defaults)])
    assert argv[:2] == ["netlab", "create"]
    assert argv[2] == os.path.abspath("lab/topology.yml")
    assert argv[3:] == ["-p", "clab", "-s", "addressing.x=true", "-s", "defaults.device=frr",
                        "-s", "nodes.r1.id=7", "--plugin", "multilab", "--defaults", str(defaults)]


@pytest.mark.parametrize("settings, fragment", [
    ({"a": {"b": 1}}, "takes a scalar"),
    ({"a": "x=y"}, "contains '='"),
    ({"bad key": "x"}, "not a dotted netlab attribute path"),
])
def test_settings_netlab_cannot_carry_are_refused(settings, fragment):
    with pytest.raises(LabError) as err:
        netlab.settings_args(settings)
    assert fragment in err.value.message


def test_missing_defaults_file_is_named(tmp_path):
    with pytest.raises(LabError) as err:
        netlab.create_command("netlab", "t.yml", "clab", defaults=[str(tmp_path / "nope.yml")])
    assert "nope.yml" in err.value.message


@pytest.mark.parametrize("key", ["PATH", "netlab_device", "NETLAB_", "LD_PRELOAD"])
def test_only_netlab_variables_are_accepted(key):
    with pytest.raises(LabError) as err:
        netlab.check_environment({key: "x"})
    assert "NETLAB_" in err.value.message and repr(key) in err.value.message


def test_child_environment_drops_inherited_netlab_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("NETLAB_PROVIDER", "libvirt")
    env = netlab.netlab_env(str(tmp_path), {"NETLAB_DEVICE": "frr"})
    assert env["HOME"] == str(tmp_path)
    assert env["NETLAB_DEVICE"] == "frr"
    assert "NETLAB_PROVIDER" not in env


def test_nonexistent_topology(tmp_path):
    with pytest.raises(LabError) as err:
        netlab.check_topology(str(tmp_path / "missing.yml"))
    assert "missing.yml does not exist" in err.value.message


def test_invalid_yaml_names_file_and_line(tmp_path):
    topo = tmp_path / "topology.yml"
    topo.write_text("nodes:\n  r1:\n    device: frr\n  - r2\n")
    with pytest.raises(LabError) as err:
        netlab.check_topology(str(topo))
    assert str(topo) in err.value.message
    assert "line 4" in err.value.message


def test_topology_must_be_a_mapping(tmp_path):
    topo = tmp_path / "topology.yml"
    topo.write_text("- r1\n- r2\n")
    with pytest.raises(LabError) as err:
        netlab.check_topology(str(topo))
    assert "must be a YAML mapping" in err.value.message


def test_real_netlab_failure_output_is_returned(tmp_path):
    topo = tmp_path / "topology.yml"
    topo.write_text("nodes:\n  r1:\n    device: nosuchdevice\n")
    home = tmp_path / "home"
    home.mkdir()
    result = netlab.run_netlab(netlab.create_command(VENV_NETLAB, str(topo), "clab"),
                               str(tmp_path), netlab.netlab_env(str(home)), 120)
    assert result.returncode == 1
    assert "nosuchdevice" in result.stderr + result.stdout


def test_real_netlab_that_runs_too_long_is_killed(tmp_path):
    """The 104-node example takes netlab well over a second to create."""
    topo = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..", "examples", "large",
                        "topology.yml")
    home = tmp_path / "home"
    home.mkdir()
    started = time.monotonic()
    with pytest.raises(LabError) as err:
        netlab.run_netlab(netlab.create_command(VENV_NETLAB, topo, "clab"), str(tmp_path),
                          netlab.netlab_env(str(home)), 1)
    assert time.monotonic() - started < 10
    assert "did not finish within 1 seconds" in err.value.message
    assert not (tmp_path / "clab.yml").exists()


FAKE_SLOW_NETLAB = textwrap.dedent("""\
    #!/bin/sh
    # FAKE netlab stand-in for the timeout test only: starts a grandchild that would
    # outlive a kill of just this process, records its pid, then hangs.
    sleep 300 &
    echo $! > "$1"
    echo "fake netlab is hanging" >&2
    wait
    """)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open("/proc/%d/stat" % pid) as handle:       # a zombie is dead for our purpose
        return handle.read().split(")")[-1].split()[0] != "Z"


def test_timeout_kills_the_whole_process_group(tmp_path):
    fake = tmp_path / "fake_slow_netlab.sh"
    fake.write_text(FAKE_SLOW_NETLAB)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    pidfile = tmp_path / "grandchild.pid"
    with pytest.raises(LabError) as err:
        netlab.run_netlab([str(fake), str(pidfile)], str(tmp_path), dict(os.environ), 1)
    assert "fake netlab is hanging" in err.value.message
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)
