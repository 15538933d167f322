"""c9s_render's warnings about the clab topology: the advice, applied as written, removes them.
(The netlab-setting advice is applied through lab_render.yml in
tests/integration/test_lab_render_playbook.py.)"""

import os
import re

from ansible_collections.skyforge.labs.plugins.module_utils.c9s import output as c9s


def render_warnings(tmp_path, clab, files=(), **options):
    root = tmp_path / ("lab-%d" % len(os.listdir(str(tmp_path))))
    root.mkdir()
    (root / "clab.yml").write_text(clab)
    for relpath in files:
        os.makedirs(str(root / relpath), exist_ok=True)
    result = c9s.render(str(root), str(root) + ".yml", "lab-ns", **options)
    return result["warnings"]


def test_invalid_lab_name_advice(tmp_path):
    clab = "name: My_Lab\ntopology:\n  nodes:\n    r1: {kind: linux, image: alpine:3}\n"
    warnings = render_warnings(tmp_path, clab)
    assert len(warnings) == 1
    name = re.search(r"e\.g\. '([^']+)'", warnings[0]).group(1)
    assert render_warnings(tmp_path, clab, name=name) == []


def test_outside_and_empty_bind_advice(tmp_path):
    outside = ("name: lab\ntopology:\n  nodes:\n    r1:\n      kind: linux\n      image: alpine:3\n"
               "      binds: [/srv/motd:/etc/motd]\n")
    warnings = render_warnings(tmp_path, outside)
    assert len(warnings) == 1 and "or remove the bind" in warnings[0]
    empty = ("name: lab\ntopology:\n  nodes:\n    r1:\n      kind: linux\n      image: alpine:3\n"
             "      binds: [conf:/etc/conf]\n")
    warnings = render_warnings(tmp_path, empty, files=["conf"])
    assert len(warnings) == 1 and "remove that bind from the node" in warnings[0]
    # applied: the bind removed
    assert render_warnings(tmp_path, "name: lab\ntopology:\n  nodes:\n    r1: {kind: linux, image: alpine:3}\n") == []
