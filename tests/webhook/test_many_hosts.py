"""Three "hosts" on one PostgreSQL, one of them kill -9ed and restarted again and again.

Each host is its own API (gunicorn) and worker, with its own port, data_dir and process
group, all sharing one run store. Submissions are spread over the three APIs (each with an
Idempotency-Key, so a submission whose answer was lost with its API is retried on another
without running twice); SSE clients follow runs on another API than the one they were
submitted to, reconnecting with Last-Event-ID when their API dies. Meanwhile the hosts are
killed in turn (API and worker together, SIGKILL to the process group) and restarted.
Afterwards: every submission is one stored run, every run is final, the runs that were
running on a killed host ended ``error`` / "worker lost" and every other run succeeded, no
run executed twice (the playbook appends a line per execution to a file named after the
run), the queue is empty, and every follower saw exactly the stored events, in order.

The size is a parameter: ``SKYFORGE_MANY_HOSTS_RUNS`` (default 100: 2 min 55 s here with a
load average of 15 on 2 cores, each run being an ``ansible-playbook`` process),
``..._RATE`` submissions/s (default 1.5), ``..._KILL_EVERY`` seconds between kills
(default 10). The issue's full size, by hand:
``SKYFORGE_MANY_HOSTS_RUNS=10000 SKYFORGE_MANY_HOSTS_KILL_EVERY=30 pytest -s -k many_hosts``.
"""

import http.client
import json
import os
import signal
import threading
import time

from tests.webhook.conftest import FINAL, PLAYBOOKS, Service, iter_sse, wait_for
from tests.webhook.store_fixtures import open_url

RUNS = int(os.environ.get("SKYFORGE_MANY_HOSTS_RUNS", "100"))
RATE = float(os.environ.get("SKYFORGE_MANY_HOSTS_RATE", "1.5"))
KILL_EVERY = float(os.environ.get("SKYFORGE_MANY_HOSTS_KILL_EVERY", "10"))
MAX_FOLLOWERS = 100       # open SSE followers at a time; a run submitted beyond that is not followed
FOLLOW_ONE_IN = 2         # every other run is followed
SUBMITTERS = 3            # client threads sharing the submissions


class Host(Service):
    """One "host": an API and a worker in their own process groups, on one shared store."""
    own_session = True

    def __init__(self, directory, name, url, evidence):
        super().__init__(directory, store={"url": url},
                         server={"workers": 2, "threads": 16},
                         queue={"max_depth": 10 ** 6, "ttl": 0},
                         worker={"slots": 2, "heartbeat_interval": 1, "dead_after": 10,
                                 "reconcile_interval": 1, "poll_interval": 0.05},
                         events={"keepalive": 2, "poll_interval": 0.05},
                         playbooks={"evidence": {
                             "playbook": os.path.join(PLAYBOOKS, "evidence.yml"),
                             "inventory": os.path.join(PLAYBOOKS, "hosts.yml"),
                             "env": {"MANY_HOSTS_EVIDENCE": evidence}}})
        self.name = name
        self.worker_id = f"{name}-worker"

    def start(self):
        self.start_api()
        self.start_worker(self.worker_id)

    def kill(self):
        """kill -9 of the whole host: gunicorn's master and workers, the worker process."""
        victims = [self.procs["gunicorn"], self.procs[f"worker-{self.worker_id}"]]
        for proc in victims:
            os.killpg(proc.pid, signal.SIGKILL)
        for proc in victims:
            proc.wait()


def submit(hosts, first, key, accepted, stats):
    """POST one run with its Idempotency-Key, to ``hosts[first]`` and, while that fails
    (its API is down or died mid-answer), to the next host, until one accepts it."""
    body = {"playbook": "evidence"}
    for attempt in range(600):
        host = hosts[(first + attempt) % len(hosts)]
        try:
            status, run, _ = host.request("POST", "/api/v1/runs", body, {"Idempotency-Key": key})
        except (OSError, http.client.HTTPException):
            stats["retries"] += 1
            time.sleep(0.1)
            continue
        assert status == 202, (status, run)
        accepted[key] = (host.name, run["id"])
        return run["id"]
    raise AssertionError(f"no API accepted submission {key} in 600 attempts")


def follow(hosts, first, run_id, out):
    """Follow the run's SSE stream from ``hosts[first]``; when the API dies, go on from the
    last event seen on the next host (Last-Event-ID). Records the events and how many
    times the stream was cut."""
    events, cuts, attempt = [], 0, 0
    deadline = time.time() + 3600
    while time.time() < deadline:
        host = hosts[(first + attempt) % len(hosts)]
        attempt += 1
        after = events[-1]["seq"] if events else 0
        try:
            conn = host.conn(timeout=30)
            conn.request("GET", f"/api/v1/runs/{run_id}/events",
                         headers={"Accept": "text/event-stream", "Last-Event-ID": str(after)})
            resp = conn.getresponse()
            if resp.status != 200:   # recorded: the stream must not be refused
                out[run_id] = {"events": events, "cuts": cuts, "ended": False,
                               "refused": f"{host.name}: {resp.status} {resp.read()!r}"}
                return
            for message in iter_sse(resp):
                if message.get("event") == "end":
                    out[run_id] = {"events": events, "cuts": cuts, "ended": True}
                    conn.close()
                    return
                events.append(message["data"])
        except (OSError, http.client.HTTPException):
            pass
        cuts += 1
        time.sleep(0.2)
    out[run_id] = {"events": events, "cuts": cuts, "ended": False}


def drained(store):
    stats = store.queue_stats(time.time())
    return stats["depth"] == 0 and not any(stats["running"].values())


def all_runs(store):
    runs, total = store.list_runs(limit=RUNS * 2 + 100)
    assert total == len(runs)
    return {run["id"]: run for run in runs}


def test_three_hosts_one_store_survive_kill_9(tmp_path, postgres_url):
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    hosts = []
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        hosts.append(Host(tmp_path / name, name, postgres_url, str(evidence)))
    store = open_url(postgres_url)
    accepted, followed, stats = {}, {}, {"retries": 0}
    followers, slots = [], threading.BoundedSemaphore(MAX_FOLLOWERS)
    kills, lost = [], {}   # lost: run id -> the worker id it was running on when killed
    errors = []
    started = time.monotonic()
    try:
        for host in hosts:
            host.start()

        def follower(first, run_id):
            try:
                follow(hosts, first, run_id, followed)
            finally:
                slots.release()

        def submitter(index):
            try:
                for i in range(index, RUNS, SUBMITTERS):
                    # paced: submissions go on through the kills rather than all up front
                    time.sleep(max(0.0, started + i / RATE - time.monotonic()))
                    run_id = submit(hosts, i % 3, f"many-hosts-{i}", accepted, stats)
                    if i % FOLLOW_ONE_IN == 0 and slots.acquire(blocking=False):
                        # followed on another API than the one it was submitted to
                        thread = threading.Thread(target=follower, args=((i + 1) % 3, run_id))
                        followers.append(thread)
                        thread.start()
            except BaseException as exc:   # reported by the main thread
                errors.append(exc)

        submitters = [threading.Thread(target=submitter, args=(n,)) for n in range(SUBMITTERS)]
        for thread in submitters:
            thread.start()

        # the chaos, until every submission is in and the queue is drained (the drain goes
        # on under kills too); in this, the main, thread: the processes it starts die with
        # the thread that started them (parent-death signal)
        victim = 0
        drain_deadline = time.monotonic() + RUNS / RATE + max(120, RUNS * 2)
        while (any(t.is_alive() for t in submitters) or not drained(store)
               or len(kills) < 2):
            assert not errors, errors
            assert time.monotonic() < drain_deadline, "the queue did not drain"
            time.sleep(KILL_EVERY)
            host = hosts[victim % 3]
            victim += 1
            # strike while it runs something, so the kill has a run to lose
            try:
                wait_for(lambda: any(r["worker_id"] == host.worker_id and r["started_at"]
                                     for r in store.list_runs(status="running", limit=100)[0]),
                         5, "a run on the victim", interval=0.2)
            except AssertionError:
                pass
            t_kill = time.time()
            host.kill()
            kills.append((host.name, t_kill))
            caught = (store.list_runs(status="running", limit=1000)[0]
                      + store.list_runs(status="error", limit=RUNS)[0])
            for run in caught:
                if (run["worker_id"] == host.worker_id and run["started_at"]
                        and (run["status"] == "running"
                             or (run["status"] == "error" and run["finished_at"] >= t_kill))):
                    lost[run["id"]] = host.worker_id
            time.sleep(1)
            host.start()
        for thread in submitters:
            thread.join()
        assert not errors, errors
        for thread in followers:
            thread.join(60)
        elapsed = time.monotonic() - started

        runs = all_runs(store)
        # none lost, none made twice: one stored run per submission
        assert len(accepted) == RUNS
        assert sorted(run_id for _, run_id in accepted.values()) == sorted(runs)
        assert {name for name, _ in accepted.values()} == {"a", "b", "c"}
        assert all(run["status"] in FINAL and not run["cleaning"] for run in runs.values())

        # the runs a kill caught running were reaped, with the reason; every other run succeeded
        assert lost, "no kill caught a run in progress: the reaper was not exercised"
        for run_id, run in runs.items():
            if run_id in lost:
                assert run["status"] == "error", run
                assert run["result"].get("reason") == "worker lost", run
                tail = store.events_after(run_id, 0, 10000)[-2:]
                assert [e["type"] for e in tail] == ["run.reaped", "run.finished"], tail
                assert tail[0]["data"]["worker"] == lost[run_id]
            else:
                assert run["status"] == "successful", run

        # executed at most once; exactly once when it succeeded
        executions = {}
        for name in os.listdir(evidence):
            with open(evidence / name) as handle:
                executions[name] = len(handle.read().splitlines())
        assert set(executions) <= set(runs)
        twice = {r: n for r, n in executions.items() if n > 1}
        assert not twice, f"runs executed more than once: {twice}"
        never = [r for r, run in runs.items() if run["status"] == "successful"
                 and executions.get(r) != 1]
        assert not never, f"successful runs without their execution's evidence: {never}"

        # every follower saw every event of its run, in order, exactly as stored
        assert followed and len(followed) == len(followers), "followers still running"
        assert all(f["ended"] for f in followed.values()), \
            [f for f in followed.values() if not f["ended"]][:3]
        for run_id, seen in followed.items():
            stored = [{"seq": e["seq"], "type": e["type"], "ts": e["ts"], "data": e["data"]}
                      for e in store.events_after(run_id, 0, 10000)]
            assert json.loads(json.dumps(seen["events"])) == json.loads(json.dumps(stored)), \
                run_id
        uncut = sum(1 for f in followed.values() if not f["cuts"])
        assert uncut, "no follower stayed on one API from start to end"
        # submitted to API A, run by the worker of host B, followed on API C
        apart = 0
        for i in range(0, RUNS, FOLLOW_ONE_IN):
            submitted_to, run_id = accepted[f"many-hosts-{i}"]
            if run_id in followed:
                ran_on = runs[run_id]["worker_id"].split("-")[0]
                apart += len({submitted_to, hosts[(i + 1) % 3].name, ran_on}) == 3
        assert apart, "no run was submitted, run and followed on three different hosts"
        print(f"\nmany hosts: {RUNS} runs in {elapsed:.0f} s ({RUNS / elapsed:.2f} runs/s), "
              f"{len(kills)} kills, {len(lost)} runs reaped, {stats['retries']} submission "
              f"retries; {len(followed)} runs followed ({uncut} on one API throughout, "
              f"{len(followed) - uncut} resumed on another, {apart} on three hosts)")
    finally:
        for host in hosts:
            host.stop()
        store.close()
