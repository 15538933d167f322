"""Webhook resilience benchmark: `.venv/bin/python bench/bench_webhook_resilience.py [--quick]`.

1. Submissions under idle load, 3 rounds, each measuring the same service first without and
   then with the idle load (load average printed with each): the real service holds
   1,000 open SSE streams (100 per run on 10 queued runs, never read by the client) and
   200 half-open sockets (a request head that never ends; `server.request_timeout` is
   raised to 120 s so they stay for the whole measurement). Each phase POSTs /api/v1/runs
   with an operator token and vars checked by the catalog schema, twice: `vegeta` at
   500/s, open loop (the latency at the goal's rate: requests leave on schedule whatever
   the answers, so a stall of the service is in the figures), then `hey` on 16
   connections, closed loop (the most the service takes: its capacity; at saturation its
   p99 is queueing, printed but not a goal). Both compiled, built from the Go proxy into
   ~/.cache/skyforge-labs/bin on first use. Then checks every stream is still open. `--profile PREFIX` records the gunicorn workers with py-spy
   during the loaded phase and prints the top frames.
2. Crash recovery under `python -m webhook serve`: kill -9 of the API mid-run, 3 times on a
   fresh serve each (time until serve starts a new master, until it has bound the port and
   forked its workers, and until the API answers again with no worker of the old master
   left; the run must end successful), then kill -9 of the worker mid-run (time until its
   run is reaped, and until a new worker has run a new submission).

Prints the figures and a table with each target and pass/fail.
"""

import argparse
import json
import os
import pathlib
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.bench_webhook import report_targets  # noqa: E402
from bench.load_generators import paced_post_load, post_load  # noqa: E402
from tests.webhook.conftest import Service  # noqa: E402
from tests.webhook.serve_process import Serve, children, state  # noqa: E402
from webhook.http.auth_settings import digest  # noqa: E402

STREAMS, HALF_OPEN, RUNS = 1000, 200, 10
GOAL_RATE, GOAL_P99 = 500, 0.1
PY_SPY = os.path.join(os.path.dirname(sys.executable), "py-spy")


def _open(port, head):
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(head.encode())
    return sock


def idle_load(svc):
    socks = []
    run_ids = [svc.submit("quick")["id"] for _ in range(RUNS)]
    for n in range(STREAMS):
        socks.append(_open(svc.port, f"GET /api/v1/runs/{run_ids[n % RUNS]}/events HTTP/1.1\r\n"
                                     "Host: x\r\nAccept: text/event-stream\r\n\r\n"))
    for sock in socks:
        head = sock.recv(64)
        assert head.startswith(b"HTTP/1.1 200"), head
    for _ in range(HALF_OPEN):
        socks.append(_open(svc.port, "POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Le"))
    return socks


def still_open(socks):
    alive = 0
    for sock in socks:
        sock.setblocking(False)
        try:
            alive += sock.recv(65536, socket.MSG_PEEK) != b""
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    return alive


def loadavg():
    with open("/proc/loadavg") as handle:
        return handle.read().split()[0]


def profile(svc, seconds, out):
    """py-spy over each gunicorn worker for ``seconds``: the 12 functions most often on top."""
    master = svc.procs["gunicorn"].pid
    workers = children(master)
    procs = [subprocess.Popen([PY_SPY, "record",
                               "-d", str(seconds), "-p", str(pid), "-f", "raw", "-o",
                               f"{out}.{pid}.txt", "--nonblocking"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for pid in workers]
    return procs, [f"{out}.{pid}.txt" for pid in workers]


def top_frames(paths, count=12):
    self_time, total = {}, 0
    for path in paths:
        with open(path) as handle:
            for line in handle:
                stack, _, n = line.rstrip().rpartition(" ")
                leaf = stack.split(";")[-1]
                self_time[leaf] = self_time.get(leaf, 0) + int(n)
                total += int(n)
    ranked = sorted(self_time.items(), key=lambda kv: -kv[1])[:count]
    return [(100.0 * n / total, frame) for frame, n in ranked]


def cpu_seconds(pids):
    """user + system CPU time the processes have used so far."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def submissions(svc, body, concurrency, duration, headers):
    """At the goal's rate (open loop) and at capacity (closed loop); the capacity phase
    also gives the CPU the API's workers spent per submission (independent of how busy
    the machine is, unlike the rate and latencies)."""
    paced = paced_post_load(svc.port, "/api/v1/runs", body, GOAL_RATE, duration, headers=headers)
    workers = children(svc.procs["gunicorn"].pid)
    cpu0 = cpu_seconds(workers)
    result = post_load(svc.port, "/api/v1/runs", body, concurrency, duration, headers=headers)
    result["cpu_ms"] = 1000 * (cpu_seconds(workers) - cpu0) / max(1, result["requests"])
    return {"paced": paced, "capacity": result}


def bench_auth(token):
    """hey submits with an operator token among a few others (the check compares every
    digest); the harness's own calls stay anonymous."""
    tokens = [{"name": f"other{n}", "role": "viewer", "sha256": digest(secrets.token_hex(16))}
              for n in range(4)]
    return {"anonymous_role": "admin",
            "tokens": tokens + [{"name": "bench", "role": "operator", "sha256": digest(token)}]}


def bench_idle_load(tmp, duration, concurrency, profile_to=None):
    """One round: the same service measured without, then with, the idle load."""
    token = secrets.token_urlsafe(32)
    svc = Service(tmp, server={"workers": 2, "request_timeout": 120, "max_streams": 2000,
                               "max_streams_per_token": 2000}, queue={"max_depth": 10 ** 7},
                  events={"keepalive": 15}, auth=bench_auth(token))
    body = json.dumps({"playbook": "quick", "vars": {"who": "bench", "lab": "l1"}})
    headers = [f"Authorization: Bearer {token}"]
    svc.start_api()
    try:
        load0 = loadavg()
        base = submissions(svc, body, concurrency, duration, headers)
        socks = idle_load(svc)
        try:
            load1 = loadavg()
            spies = profile(svc, duration, profile_to) if profile_to else None
            result = submissions(svc, body, concurrency, duration, headers)
            if spies:
                for spy in spies[0]:
                    spy.wait(timeout=60)
                result["capacity"]["profile"] = top_frames([p for p in spies[1] if os.path.exists(p)])
            result["open_after"] = still_open(socks)
        finally:
            for sock in socks:
                sock.close()
        return {"base": base, "load": result, "loadavg": (load0, load1)}
    finally:
        svc.stop()


def _wait(condition, timeout):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.01)


def _answers(svc):
    try:
        return svc.request("GET", "/healthz")[0] == 200
    except OSError:
        return False


def api_recovery(serve):
    """kill -9 the gunicorn master; seconds until serve has started a new one, until that
    one has bound the port and forked its workers, and until the API answers again with
    every worker of the old master gone (an orphan answering does not count)."""
    old = serve.child(b"gunicorn")
    orphans = children(old)
    marks = {}
    t0 = time.monotonic()
    os.kill(old, signal.SIGKILL)

    def back():
        now = time.monotonic() - t0
        new = serve.child(b"gunicorn")
        if new in (None, old):
            return False
        marks.setdefault("restarted", now)
        if not children(new):
            return False
        marks.setdefault("forked", now)
        if any(state(p) not in ("gone", "Z") for p in orphans) or not _answers(serve.svc):
            return False
        marks["answers"] = time.monotonic() - t0
        return True
    _wait(back, 120)
    return marks


def bench_recovery(tmp, kills):
    """``kills`` times a fresh serve, each kill -9 of its API the first death (no back-off);
    on the last one also kill -9 of the worker."""
    api = []
    for n in range(kills):
        path = pathlib.Path(tmp, f"serve{n}")
        path.mkdir()
        serve = Serve(path)
        svc = serve.svc
        try:
            run = svc.submit("slow_plain", vars={"seconds": 8})
            _wait(lambda: svc.run(run["id"])["started_at"] is not None, 60)
            load = loadavg()
            api.append(dict(api_recovery(serve), loadavg=load,
                            run=svc.wait(run["id"], timeout=120)["status"]))
            if n + 1 < kills:
                continue
            run = svc.submit("slow_plain", vars={"seconds": 60})
            _wait(lambda: svc.run(run["id"])["started_at"] is not None, 60)
            t0 = time.monotonic()
            os.kill(serve.child(b"webhook\0worker"), signal.SIGKILL)
            after = svc.submit("quick")
            reaped = svc.wait(run["id"], timeout=120)
            reap_time = time.monotonic() - t0
            done = svc.wait(after["id"], timeout=120)
            new_worker_time = time.monotonic() - t0
        finally:
            serve.stop()
    return {"api": api, "reaped": reaped["status"], "reap_time": reap_time,
            "new_worker_time": new_worker_time, "new_run": done["status"]}


def median_round(rounds, phase, figure):
    return sorted(rounds, key=lambda r: r["load"][phase][figure])[len(rounds) // 2]["load"][phase]


def fmt(both):
    paced, r = both["paced"], both["capacity"]
    return (f"at {GOAL_RATE}/s offered: {paced['rate']:.0f}/s answered, p50 "
            f"{paced['p50'] * 1000:.1f} ms, p99 {paced['p99'] * 1000:.1f} ms, max "
            f"{paced['max'] * 1000:.1f} ms, {paced['errors']} errors; capacity: {r['rate']:.0f}/s "
            f"(p50 {r['p50'] * 1000:.1f} ms, p99 {r['p99'] * 1000:.1f} ms, {r['errors']} errors); "
            f"CPU per submission: API {r['cpu_ms']:.2f} ms, hey {r['client_cpu_ms']:.2f} ms (2 "
            f"idle cores: at most {2000 / (r['cpu_ms'] + r['client_cpu_ms']):.0f}/s)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter phases, one round")
    parser.add_argument("--rounds", type=int, default=3, help="idle-load rounds (0: none)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--profile", metavar="PREFIX",
                        help="py-spy the gunicorn workers during each loaded phase (needs "
                             "`.venv/bin/pip install py-spy`)")
    parser.add_argument("--skip-crash", action="store_true", help="only the idle-load figure")
    parser.add_argument("--kills", type=int, default=3, help="kill -9 of the API, each on a "
                        "fresh serve (default 3; 1 with --quick)")
    args = parser.parse_args()
    if args.profile and not os.access(PY_SPY, os.X_OK):
        parser.error(f"--profile needs {PY_SPY}: .venv/bin/pip install py-spy")
    if args.quick:
        args.kills = 1
    rounds = []
    with tempfile.TemporaryDirectory(prefix="bench-webhook-res-") as tmp:
        n_rounds = 1 if args.quick else args.rounds
        for n in range(n_rounds):
            os.mkdir(os.path.join(tmp, f"load{n}"))
            print(f"1/2 round {n + 1}/{n_rounds}: submissions without, then with, {STREAMS} "
                  f"open SSE streams and {HALF_OPEN} half-open sockets ...", flush=True)
            rounds.append(bench_idle_load(os.path.join(tmp, f"load{n}"),
                                          4 if args.quick else 8, args.concurrency,
                                          args.profile and f"{args.profile}.round{n + 1}"))
        crash = None
        if not args.skip_crash:
            os.mkdir(os.path.join(tmp, "crash"))
            print(f"2/2 kill -9 of the API ({args.kills} times, a fresh serve each), then of "
                  "the worker, under serve ...", flush=True)
            crash = bench_recovery(os.path.join(tmp, "crash"), args.kills)
    print()
    for n, r in enumerate(rounds, 1):
        print(f"round {n}: load average {r['loadavg'][0]} / {r['loadavg'][1]} (2 cores); "
              f"no idle load: {fmt(r['base'])}; with {STREAMS} SSE streams + {HALF_OPEN} "
              f"half-open sockets: {fmt(r['load'])}; {r['load']['open_after']}/"
              f"{STREAMS + HALF_OPEN} idle connections still open after ({r['load']['paced']['clients']}; "
              f"{r['load']['capacity']['clients']})")
        for share, frame in r["load"]["capacity"].get("profile", []):
            print(f"    {share:5.1f}%  {frame}")
    rows = []
    if rounds:
        capacity = median_round(rounds, "capacity", "rate")
        paced = median_round(rounds, "paced", "p99")
        rows += [
            ("submission capacity, idle load (median round)", f"{capacity['rate']:.0f}/s",
             f">= {GOAL_RATE}/s", capacity["rate"] >= GOAL_RATE),
            (f"p99 at {GOAL_RATE}/s offered, idle load (median round)",
             f"{paced['p99'] * 1000:.1f} ms", f"< {GOAL_P99 * 1000:.0f} ms", paced["p99"] < GOAL_P99),
            (f"errors at {GOAL_RATE}/s offered, idle load (every round)",
             f"{sum(r['load']['paced']['errors'] for r in rounds)}", "0",
             all(r["load"]["paced"]["errors"] == 0 for r in rounds)),
            ("idle connections kept (every round)",
             f"{min(r['load']['open_after'] for r in rounds)}", f"{STREAMS + HALF_OPEN}",
             all(r["load"]["open_after"] == STREAMS + HALF_OPEN for r in rounds)),
        ]
    if crash:
        for n, k in enumerate(crash["api"], 1):
            print(f"kill -9 API {n}: load average {k['loadavg']}; serve started a new master "
                  f"after {k['restarted']:.2f} s, it had bound the port and forked its workers "
                  f"after {k['forked']:.2f} s, the API answered (no orphan left) after "
                  f"{k['answers']:.2f} s; the run in progress ended {k['run']}")
        print(f"kill -9 worker: its run {crash['reaped']} (reaped) after "
              f"{crash['reap_time']:.2f} s, a new worker ran a new submission "
              f"({crash['new_run']}) {crash['new_worker_time']:.2f} s after the kill")
        worst = max(k["answers"] for k in crash["api"])
        rows += [
            ("API back after kill -9 (worst)", f"{worst:.2f} s", "< 10 s",
             worst < 10 and all(k["run"] == "successful" for k in crash["api"])),
            ("worker run reaped", f"{crash['reap_time']:.2f} s", "error",
             crash["reaped"] == "error"),
            ("new worker ran a run", f"{crash['new_worker_time']:.2f} s", "successful",
             crash["new_run"] == "successful"),
        ]
    return report_targets(rows)


if __name__ == "__main__":
    sys.exit(main())
