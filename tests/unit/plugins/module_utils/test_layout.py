"""The layout shows the design: module_utils is packages only, their import graph and the
webhook's have no cycles (between modules or between packages), and the contracts have one
home."""

import ast
import os
import re

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
MODULE_UTILS = os.path.join(ROOT, "plugins", "module_utils")
PREFIX = "ansible_collections.skyforge.labs.plugins.module_utils."


def _modules():
    """{dotted name under module_utils: path} of every .py file."""
    found = {}
    for directory, _dirs, files in os.walk(MODULE_UTILS):
        for name in files:
            if name.endswith(".py") and name != "__init__.py":
                rel = os.path.relpath(os.path.join(directory, name), MODULE_UTILS)
                found[rel[:-3].replace(os.sep, ".")] = os.path.join(directory, name)
    return found


def _imports(path, known):
    """module_utils modules `path` imports anywhere (function-level imports count too)."""
    out = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX[:-1]):
            base = node.module[len(PREFIX):] if node.module != PREFIX[:-1] else ""
            for alias in node.names:
                candidate = (base + "." if base else "") + alias.name
                out.add(candidate if candidate in known else base)
        elif isinstance(node, ast.Import):
            out.update(a.name[len(PREFIX):] for a in node.names if a.name.startswith(PREFIX))
    return out - {""}


def _cycle(graph):
    """A cycle in {node: {successors}} as a list, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for succ in sorted(graph.get(node, ())):
            if state.get(succ) == "open":
                return stack[stack.index(succ):] + [succ]
            if succ not in state:
                found = visit(succ)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None
    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_module_utils_is_packages_only():
    assert [m for m in _modules() if "." not in m] == []
    for package in sorted(set(m.split(".")[0] for m in _modules())):
        assert os.path.isfile(os.path.join(MODULE_UTILS, package, "__init__.py")), package
        assert open(os.path.join(MODULE_UTILS, package, "__init__.py")).read() == ""


def _assert_acyclic(graph):
    """No import of a missing module, no cycle between modules or between packages."""
    unknown = sorted(set().union(*graph.values()) - set(graph))
    assert unknown == [], "imports of modules that do not exist: %s" % unknown
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))
    packages = {}
    for name, targets in graph.items():
        packages.setdefault(name.split(".")[0], set()).update(
            t.split(".")[0] for t in targets if t.split(".")[0] != name.split(".")[0])
    assert _cycle(packages) is None, " -> ".join(_cycle(packages))


def test_the_import_graph_has_no_cycles():
    modules = _modules()
    graph = dict((name, _imports(path, modules)) for name, path in modules.items())
    assert {"c9s.apply", "c9s.remove", "k8s.client"} <= graph["c9s.service"]   # the graph is read
    _assert_acyclic(graph)


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


@pytest.mark.parametrize("literal", [
    '"c9s.run/v1alpha1"', '"clabernetes.containerlab.dev/v1alpha1"', '"skyforge.labs/lab"',
    '"app.kubernetes.io/managed-by"', '"skyforge.labs/component"', '"%s/topologyOwner"',
    '"%s/topologyNode"', '"dryRun"',
])
def test_contracts_are_written_once(literal):
    homes = [name for name, path in _modules().items() if literal in open(path).read()]
    assert len(homes) == 1, "%s is written in %s" % (literal, homes)


def test_modules_import_module_utils_in_the_form_sanity_accepts():
    modules_dir = os.path.join(ROOT, "plugins", "modules")
    for name in sorted(os.listdir(modules_dir)):
        text = open(os.path.join(modules_dir, name)).read()
        for line in re.findall(r"^\s*(?:from|import) .*module_utils.*$", text, re.M):
            assert ("from ansible.module_utils." in line or line.strip().startswith("from " + PREFIX)), (name, line)


WEBHOOK = os.path.join(ROOT, "webhook")


def _webhook_modules():
    """{dotted name under webhook (a package is its __init__, webhook itself ""): path}."""
    found = {}
    for directory, _dirs, files in os.walk(WEBHOOK):
        for name in files:
            if name.endswith(".py") and name != "gunicorn.conf.py":
                rel = os.path.relpath(os.path.join(directory, name), WEBHOOK)[:-3]
                dotted = rel.replace(os.sep, ".")
                found[dotted[:-len(".__init__")] if dotted.endswith("__init__") else dotted] = \
                    os.path.join(directory, name)
    return found


def _webhook_imports(name, path, known):
    """webhook modules `name` imports anywhere, relative or absolute (function-level too)."""
    package = name if os.path.basename(path) == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.ImportFrom) and node.level:
            parts = package.split(".") if package else []
            base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "webhook":
            base = node.module[len("webhook."):] if node.module != "webhook" else ""
        elif isinstance(node, ast.Import):
            out.update(a.name[len("webhook."):] for a in node.names if a.name.startswith("webhook."))
            continue
        else:
            continue
        for alias in node.names:
            candidate = (base + "." if base else "") + alias.name
            out.add(candidate if candidate in known else base)
    return out - {name}


def test_the_webhook_import_graph_has_no_cycles():
    modules = _webhook_modules()
    graph = dict((name, _webhook_imports(name, path, modules)) for name, path in modules.items())
    assert {"errors", "store", "domain.vars_policy"} <= graph["domain.runs"]   # the graph is read
    _assert_acyclic(graph)
