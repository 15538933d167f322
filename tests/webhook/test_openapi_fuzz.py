"""schemathesis checks the running service against its OpenAPI document: every phase
(examples, coverage, fuzzing, stateful) with ``--checks all``, once with a fixed seed and
once with a random one (printed, so a failure can be replayed with ``--seed``). The service
is the real one: gunicorn, a worker, an admin token, hooks, and a catalog of small playbooks.
What each check covers and why any is not applicable: tests/webhook/schemathesis.toml."""

import os
import random
import subprocess
import sys

import pytest
import yaml

from tests.webhook.conftest import ROOT, catalog
from tests.webhook.hook_helpers import ENV, HOOKS, RULES, TOKENS, AuthedService, auth_section

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMATHESIS = os.path.join(os.path.dirname(sys.executable), "schemathesis")
FIXED_SEED = 20261203
RANDOM_SEED = random.SystemRandom().randrange(2 ** 31)
BUDGET = 80   # seconds per seed (--max-time: fuzzing and stateful repeat until it is spent)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    quick = catalog()["quick"]
    directory = tmp_path_factory.mktemp("fuzz")
    svc = AuthedService(directory, auth=auth_section(), hooks=HOOKS, rules=RULES,
                        # a short queue: the fuzzer's valid submissions fill it, then get 429
                        # (documented) instead of queueing minutes of runs
                        queue={"max_depth": 6, "retry_after": 1, "ttl": 20})
    with open(svc.config) as handle:
        config = yaml.safe_load(handle)
    # the catalog is only these (the overrides above merge into the tests' catalog): quick
    # has a strict vars schema, anything takes any vars; both finish in seconds
    config["playbooks"] = {"quick": quick, "anything": dict(quick, schema={"type": "object"})}
    with open(svc.config, "w") as handle:
        yaml.safe_dump(config, handle)
    svc.env.update(ENV)
    with svc.running():
        yield svc


@pytest.mark.slow
@pytest.mark.parametrize("seed", [FIXED_SEED, RANDOM_SEED], ids=["fixed-seed", "random-seed"])
def test_the_service_keeps_its_openapi_contract(service, seed, tmp_path):
    if not os.path.exists(SCHEMATHESIS):
        pytest.fail(f"schemathesis is not installed in {os.path.dirname(sys.executable)}: "
                    "`make venv` installs requirements-dev.txt")
    print(f"schemathesis seed {seed} (replay: --seed {seed})")
    argv = [SCHEMATHESIS, "--no-color", "--config-file", os.path.join(HERE, "schemathesis.toml"),
            "run", f"http://127.0.0.1:{service.port}/api/v1/openapi.json",
            "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful",
            "--seed", str(seed), "--max-time", str(BUDGET), "--workers", "1",
            "--header", f"Authorization: Bearer {TOKENS['admin']}",
            "--report", "junit", "--report-dir", str(tmp_path)]
    env = dict(os.environ, PYTHONPATH=ROOT, SCHEMATHESIS_HOOKS="tests.webhook.schemathesis_hooks")
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          stdin=subprocess.DEVNULL, timeout=BUDGET + 120, cwd=str(tmp_path),
                          env=env)
    print(proc.stdout[-20000:])
    assert proc.returncode == 0, f"schemathesis (seed {seed}) found failures:\n" \
                                 + proc.stdout[-12000:]
