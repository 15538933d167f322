"""HTTP load from compiled generators (so the generator is not what a 2-core machine runs
out of first), each installed on first use into ~/.cache/skyforge-labs/bin from the Go
proxy:

- ``post_load``: `hey`, closed loop: N connections, each sends its next request when the
  last one is answered. It finds the most a service can take (its capacity); its
  latencies at saturation are queueing, N / rate on average, not service time.
- ``paced_post_load``: `vegeta`, open loop: requests go out on schedule at a fixed rate
  whatever the answers (a new connection when every open one is busy), so a stall of the
  service shows in the latencies of every request it delays instead of slowing the sender
  down (a closed loop hides those as "coordinated omission"). It measures latency at a
  given rate.
"""

import csv
import io
import os
import resource
import shutil
import subprocess
import tempfile

from bench.bench_webhook import pct

BIN_DIR = os.path.expanduser("~/.cache/skyforge-labs/bin")
TOOLS = {"hey": "github.com/rakyll/hey@v0.1.4", "vegeta": "github.com/tsenart/vegeta/v12@v12.13.0"}


def ensure_tool(name):
    """Path of the compiled generator ``name`` (a key of TOOLS), built when missing."""
    path = os.path.join(BIN_DIR, name)
    if os.access(path, os.X_OK):
        return path
    if not shutil.which("go"):
        raise RuntimeError(f"{name} is missing and go is not installed to build it ({TOOLS[name]})")
    os.makedirs(BIN_DIR, exist_ok=True)
    subprocess.run(["go", "install", TOOLS[name]], check=True, env=dict(os.environ, GOBIN=BIN_DIR))
    return path


def _figures(rows, warmup, expect, before, clients):
    """rows: (offset s, latency s, status); requests started in the first ``warmup`` s are
    left out of the rate and latencies, every request counts for errors."""
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    measured = [r for r in rows if r[0] >= warmup]
    latencies = [r[1] for r in measured]
    window = max(r[0] for r in measured) - warmup
    return {"rate": sum(r[2] == expect for r in measured) / window,
            "p50": pct(latencies, 50), "p99": pct(latencies, 99), "max": max(latencies),
            "requests": len(rows), "errors": sum(r[2] != expect for r in rows), "clients": clients,
            "client_cpu_ms": 1000 * (after.ru_utime + after.ru_stime - before.ru_utime
                                     - before.ru_stime) / max(1, len(rows))}


def post_load(port, path, body, concurrency, duration, warmup=1.0, expect=202, headers=()):
    """``concurrency`` connections POSTing ``body`` (with ``headers``, "Name: value") for
    ``duration`` s. ``port`` may be a list (API replicas): one ``hey`` per port at once,
    the connections split between them, the figures over all of their requests.
    ``rate`` counts answers with status ``expect``; ``client_cpu_ms`` is what ``hey``
    spent per request."""
    ports = list(port) if isinstance(port, (list, tuple)) else [port]
    extra = [arg for header in headers for arg in ("-H", header)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    procs = []
    for i, each in enumerate(ports):
        share = concurrency // len(ports) + (i < concurrency % len(ports))
        procs.append(subprocess.Popen(
            [ensure_tool("hey"), "-z", f"{duration}s", "-c", str(share), "-m", "POST",
             "-T", "application/json", "-d", body, *extra, "-o", "csv",
             f"http://127.0.0.1:{each}{path}"], stdout=subprocess.PIPE, text=True))
    rows = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode:
            raise subprocess.CalledProcessError(proc.returncode, proc.args)
        rows += [(float(r["offset"]), float(r["response-time"]), int(r["status-code"]))
                 for r in csv.DictReader(io.StringIO(out))]
    return _figures(rows, warmup, expect, before,
                    f"hey, closed loop, {concurrency} connections over {len(ports)} port(s)")


def paced_post_load(port, path, body, rate, duration, warmup=1.0, expect=202, headers=()):
    """POST ``body`` at ``rate`` requests/s for ``duration`` s with ``vegeta`` (open loop);
    ``rate`` in the answer counts answers with status ``expect`` per second."""
    vegeta = ensure_tool("vegeta")
    with tempfile.TemporaryDirectory(prefix="paced-load-") as tmp:
        with open(os.path.join(tmp, "body"), "w") as handle:
            handle.write(body)
        with open(os.path.join(tmp, "targets"), "w") as handle:
            handle.write(f"POST http://127.0.0.1:{port}{path}\nContent-Type: application/json\n"
                         + "".join(f"{h}\n" for h in headers) + f"@{tmp}/body\n")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        attack = subprocess.Popen([vegeta, "attack", "-targets", os.path.join(tmp, "targets"),
                                   "-rate", f"{rate}/s", "-duration", f"{duration}s"],
                                  stdout=subprocess.PIPE)
        encoded = subprocess.run([vegeta, "encode", "--to", "csv"], stdin=attack.stdout,
                                 stdout=subprocess.PIPE, text=True, check=True).stdout
        attack.stdout.close()
        if attack.wait():
            raise subprocess.CalledProcessError(attack.returncode, attack.args)
    # timestamp (ns), status, latency (ns), ...
    raw = [(int(r[0]), int(r[2]) / 1e9, int(r[1])) for r in csv.reader(io.StringIO(encoded))]
    start = min(r[0] for r in raw)
    rows = [((t - start) / 1e9, latency, status) for t, latency, status in raw]
    return _figures(rows, warmup, expect, before, f"vegeta, open loop, {rate}/s offered")
