"""POST load from `hey` (compiled, so the generator is not what a 2-core machine runs out
of first), installed on first use into ~/.cache/skyforge-labs/bin from the Go proxy."""

import csv
import io
import os
import shutil
import subprocess

from bench.bench_webhook import pct

BIN_DIR = os.path.expanduser("~/.cache/skyforge-labs/bin")
HEY = os.path.join(BIN_DIR, "hey")
HEY_MODULE = "github.com/rakyll/hey@v0.1.4"


def ensure_hey():
    if os.access(HEY, os.X_OK):
        return HEY
    if not shutil.which("go"):
        raise RuntimeError(f"hey is missing and go is not installed to build it ({HEY_MODULE})")
    os.makedirs(BIN_DIR, exist_ok=True)
    subprocess.run(["go", "install", HEY_MODULE], check=True,
                   env=dict(os.environ, GOBIN=BIN_DIR))
    return HEY


def post_load(port, path, body, concurrency, duration, warmup=1.0, expect=202):
    """``concurrency`` connections POSTing ``body`` for ``duration`` s; requests started in
    the first ``warmup`` s are left out of the figures. ``port`` may be a list (API
    replicas): one ``hey`` per port at once, the connections split between them, the
    figures over all of their requests."""
    ports = list(port) if isinstance(port, (list, tuple)) else [port]
    procs = []
    for i, each in enumerate(ports):
        share = concurrency // len(ports) + (i < concurrency % len(ports))
        procs.append(subprocess.Popen(
            [ensure_hey(), "-z", f"{duration}s", "-c", str(share), "-m", "POST",
             "-T", "application/json", "-d", body, "-o", "csv",
             f"http://127.0.0.1:{each}{path}"], stdout=subprocess.PIPE, text=True))
    rows = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode:
            raise subprocess.CalledProcessError(proc.returncode, proc.args)
        rows += list(csv.DictReader(io.StringIO(out)))
    measured = [r for r in rows if float(r["offset"]) >= warmup]
    latencies = [float(r["response-time"]) for r in measured]
    window = max(float(r["offset"]) for r in measured) - warmup
    return {"rate": len(measured) / window, "p50": pct(latencies, 50), "p99": pct(latencies, 99),
            "requests": len(rows), "errors": sum(r["status-code"] != str(expect) for r in rows),
            "clients": f"hey, {concurrency} connections over {len(ports)} port(s)"}
