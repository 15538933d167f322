"""netlab_generate vs a raw `netlab create` of the same topology, measured in the same run.

For each example, repetitions alternate between the two (so machine noise hits both):
- raw: `netlab create -p clab topology.yml` in a fresh copy of the example's directory
  with a private HOME, which is what a user would type (netlab expects to run next to the
  topology: it checks relative bind sources against its working directory);
- generate: the module_utils entry point the module calls (`generate()`), into a fresh
  workdir and a new bundle, so every repetition pays for the whole job: input checks,
  moving the old workdir aside, netlab, seeding/settling referenced files, collecting the
  tree, the manifest and writing the gzip bundle.
The target is a median overhead of at most 5%.

    .venv/bin/python bench/bench_generate.py [--reps-small N] [--reps-large N]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, ".skyforge", "collections")]

from ansible_collections.skyforge.labs.plugins.module_utils.netlab import cli as netlab  # noqa: E402
from ansible_collections.skyforge.labs.plugins.module_utils.netlab.generate import generate  # noqa: E402

TARGET_PCT = 5.0


def raw_create(executable, topology, scratch):
    lab = os.path.join(tempfile.mkdtemp(dir=scratch), "lab")
    shutil.copytree(os.path.dirname(topology), lab)
    home = tempfile.mkdtemp(dir=scratch)
    started = time.perf_counter()
    subprocess.run([executable, "create", "topology.yml", "-p", "clab"], cwd=lab, check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=netlab.netlab_env(home))
    return time.perf_counter() - started


NETLAB_SECONDS = []
_run_netlab = netlab.run_netlab


def _timed_run_netlab(*args, **kwargs):
    """Time the netlab subprocess inside generate(), to report generate's own cost too."""
    started = time.perf_counter()
    try:
        return _run_netlab(*args, **kwargs)
    finally:
        NETLAB_SECONDS.append(time.perf_counter() - started)


netlab.run_netlab = _timed_run_netlab


def module_generate(topology, scratch):
    base = tempfile.mkdtemp(dir=scratch)
    del NETLAB_SECONDS[:]
    started = time.perf_counter()
    result = generate(topology, os.path.join(base, "work"), os.path.join(base, "lab.tar.gz"))
    elapsed = time.perf_counter() - started
    return elapsed, elapsed - sum(NETLAB_SECONDS), result


def bench(name, reps, executable, scratch):
    topology = os.path.join(ROOT, "examples", name, "topology.yml")
    raw, gen, own = [], [], []
    result = None
    for rep in range(reps):
        order = (("raw", "gen") if rep % 2 == 0 else ("gen", "raw"))
        for which in order:
            if which == "raw":
                raw.append(raw_create(executable, topology, scratch))
            else:
                elapsed, own_seconds, result = module_generate(topology, scratch)
                gen.append(elapsed)
                own.append(own_seconds)
    raw_median, gen_median = statistics.median(raw), statistics.median(gen)
    overhead = (gen_median - raw_median) / raw_median * 100.0
    files = len(result["manifest"]["files"])
    size = os.path.getsize(result["bundle"])
    print("%-13s nodes=%-4d files=%-4d bundle=%7d B  reps=%d" % (
        name, len(result["nodes"]), files, size, reps))
    print("  raw netlab create  median %7.3f s   (min %.3f, max %.3f)" % (raw_median, min(raw), max(raw)))
    print("  netlab_generate    median %7.3f s   (min %.3f, max %.3f)" % (gen_median, min(gen), max(gen)))
    print("  of which outside the netlab process: median %.3f s = %.2f %% of raw netlab create"
          % (statistics.median(own), statistics.median(own) / raw_median * 100.0))
    print("  overhead %+6.2f %%  (%+.3f s)  target <= %.0f %%: %s" % (
        overhead, gen_median - raw_median, TARGET_PCT, "OK" if overhead <= TARGET_PCT else "OVER"))
    return overhead


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps-small", type=int, default=8, help="repetitions for multi-vendor")
    parser.add_argument("--reps-large", type=int, default=4, help="repetitions for the 104-node lab")
    args = parser.parse_args()
    executable = netlab.find_netlab()
    scratch = tempfile.mkdtemp(prefix="bench_generate-")
    try:
        print("netlab %s (%s)" % (netlab.netlab_version(executable), executable))
        results = [bench("multi-vendor", args.reps_small, executable, scratch),
                   bench("large", args.reps_large, executable, scratch)]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    worst = max(results)
    print("worst overhead %+.2f %% (target <= %.0f %%): %s"
          % (worst, TARGET_PCT, "OK" if worst <= TARGET_PCT else "OVER"))
    return 0 if worst <= TARGET_PCT else 1


if __name__ == "__main__":
    sys.exit(main())
