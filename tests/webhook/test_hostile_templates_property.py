"""Property: random nested vars made of template syntax, sent to the real service, never
run the sentinel lookup they carry (which would create a file), and the run still succeeds."""

import os
import uuid

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.webhook import hook_helpers as H
from tests.webhook.test_hostile_templates import svc  # noqa: F401  (module fixture)

SENTINEL_DIR = f"/tmp/skyforge-sentinel-{uuid.uuid4().hex[:12]}"


def _fragments():
    call = "lookup('pipe', 'mkdir -p %s && touch %s/x')" % (SENTINEL_DIR, SENTINEL_DIR)
    return st.sampled_from([
        "{{", "}}", "{%", "%}", "{#", "#}", "[[", "]]", "<%", "%>", "((", "))", "\n", " ",
        "#jinja2:", "variable_start_string:'[[', variable_end_string:']]'\n",
        "block_start_string:'<%', block_end_string:'%>'\n", "line_statement_prefix:'%%'\n",
        "%% set x = ", "set x = ", call, "{{ %s }}" % call, "[[ %s ]]" % call, "x", "'", '"',
        "\\", "{% raw %}", "{% endraw %}", "|", "+",
    ])


TEXT = st.lists(_fragments(), min_size=1, max_size=8).map("".join) | st.text(max_size=20)
HEADERED = st.builds(lambda body: "#jinja2:variable_start_string:'[[', "
                                  "variable_end_string:']]'\n" + body, TEXT)
LEAVES = TEXT | HEADERED | st.integers() | st.booleans() | st.none()
VALUES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12)


@settings(max_examples=int(os.environ.get("SKYFORGE_HYPOTHESIS_EXAMPLES", "12")),
          deadline=None, suppress_health_check=list(HealthCheck), derandomize=False)
@given(data=VALUES)
def test_random_template_syntax_never_runs(svc, data):  # noqa: F811
    status, body, _ = H.call(svc, "POST", "/api/v1/runs", "operator",
                             {"playbook": "echo", "vars": {"data": data}})
    assert status == 202, body
    final = svc.wait(body["id"], timeout=120)
    stdout = H.call(svc, "GET", f"/api/v1/runs/{body['id']}/stdout", "viewer")[1]
    assert final["status"] == "successful", stdout[-3000:]
    assert not os.path.exists(SENTINEL_DIR), f"templated: {data!r}\n{stdout[-2000:]}"
