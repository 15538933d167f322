"""The README's tables stay true: every module, plugin, role and playbook is listed."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _names(*parts, suffix=".py"):
    directory = os.path.join(ROOT, *parts)
    return {n[:-len(suffix)] if suffix else n for n in os.listdir(directory)
            if (n.endswith(suffix) if suffix else os.path.isdir(os.path.join(directory, n)))
            and not n.startswith("_")}


def test_every_module_plugin_role_and_playbook_is_in_the_readme():
    with open(os.path.join(ROOT, "README.md")) as handle:
        readme = handle.read()
    table = "\n".join(line for line in readme.splitlines() if line.startswith("| `skyforge.labs."))
    listed = set(re.findall(r"`(?:skyforge\.labs\.)?([a-z0-9_]+)`", table))
    plugins = _names("plugins", "modules") | _names("plugins", "lookup") | _names("plugins", "filter")
    assert sorted(plugins - listed) == [], "plugins missing from the README's table"
    for role in _names("roles", suffix=None):
        assert "`%s`" % role in readme, role
    for playbook in _names("playbooks", suffix=".yml"):
        assert "%s.yml" % playbook in readme, playbook


def test_every_module_utils_module_has_its_home_in_the_readme():
    with open(os.path.join(ROOT, "README.md")) as handle:
        section = handle.read().split("## Where things live", 1)[1]
    base = os.path.join(ROOT, "plugins", "module_utils")
    for directory, _dirs, files in os.walk(base):
        for name in files:
            if name.endswith(".py") and name != "__init__.py":
                rel = os.path.relpath(os.path.join(directory, name), base).replace(os.sep, "/")
                assert "`%s`" % rel in section, rel


def test_an_example_that_says_make_demo_renders_it_is_the_demo_topology():
    with open(os.path.join(ROOT, "Makefile")) as handle:
        demo = re.search(r"^DEMO_TOPOLOGY \?= (\S+)", handle.read(), re.M).group(1)
    for name in sorted(os.listdir(os.path.join(ROOT, "examples"))):
        path = os.path.join(ROOT, "examples", name, "topology.yml")
        if not os.path.isfile(path):
            continue
        with open(path) as handle:
            header = "".join(line for line in handle if line.startswith("#"))
        # plain `make demo` renders the Makefile's DEMO_TOPOLOGY and nothing else
        for said in re.findall(r"`make demo` renders\s*(\S*)", header):
            assert demo.startswith(said.rstrip(";,.")) and said.rstrip(";,."), (name, said)
