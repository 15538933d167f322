"""Find and stop every process a run started.

A run's processes are the union of (a) the members of its own cgroup v2: the worker moves
the supervisor into ``<cgroup2 mount>/<worker's cgroup>/skyforge/<run>-<ident>`` before it
starts ansible, so every descendant is there whatever it does with sessions, parents or
its environment (used when a writable cgroup2 hierarchy exists); (b) the descendants of the
supervisor, which is a child subreaper so orphans (double forks, ``setsid`` daemons)
re-parent to it instead of init; and (c) any process whose environment carries the run's
tag (``SKYFORGE_RUN_ID=<id>``), which catches processes that escaped the tree when the
supervisor itself died.  (b) and (c) are the fallback where cgroups are not available.
Linux only.
"""

import ctypes
import os
import signal
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
TAG_VAR = "SKYFORGE_RUN_ID"


def prctl(option, value):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


def _stat(pid):
    """(ppid, state) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()
    return int(fields[1]), fields[0].decode()


def _pids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def process_table():
    """{pid: (ppid, state)} for every visible process."""
    table = {}
    for pid in _pids():
        info = _stat(pid)
        if info:
            table[pid] = info
    return table


def descendants(root, table=None):
    table = table if table is not None else process_table()
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def tagged(run_id, table=None):
    table = table if table is not None else process_table()
    needle = f"{TAG_VAR}={run_id}".encode() + b"\0"
    me = os.getpid()
    out = set()
    for pid in table:
        if pid == me:
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                if needle in handle.read() + b"\0":
                    out.add(pid)
        except OSError:
            continue
    return out


def cgroup2_mount():
    try:
        with open("/proc/self/mounts", encoding="utf-8") as handle:
            for line in handle:
                parts = line.split()
                if len(parts) > 2 and parts[2] == "cgroup2":
                    return parts[1]
    except OSError:
        pass
    return None


def run_cgroup(run_id, ident):
    """Where the supervisor of (run, ident) puts itself, or None without cgroup v2."""
    mount = cgroup2_mount()
    if not mount:
        return None
    own = "/"
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("0::"):
                    own = line[3:].strip()
    except OSError:
        return None
    return os.path.join(mount, own.lstrip("/"), "skyforge", f"{run_id}-{ident}")


def join_cgroup(path, pid):
    """Create ``path`` and move ``pid`` into it; False where that is not allowed."""
    try:
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "cgroup.procs"), "w", encoding="ascii") as handle:
            handle.write(str(pid))
        return True
    except OSError:
        return False


def cgroup_pids(path):
    if not path:
        return set()
    try:
        with open(os.path.join(path, "cgroup.procs"), encoding="ascii") as handle:
            return {int(line) for line in handle if line.strip()}
    except OSError:
        return set()


def remove_cgroup(path):
    if path:
        try:
            os.rmdir(path)
        except OSError:
            pass


def run_processes(run_id, root=None, exclude=(), cgroup=None):
    """Live (non-zombie) processes belonging to a run."""
    table = process_table()
    pids = tagged(run_id, table) | cgroup_pids(cgroup)
    if root:
        pids |= descendants(root, table)
    return {p for p in pids - set(exclude) if p in table and table[p][1] not in ("Z", "X")}


def alive(pid):
    info = _stat(pid)
    return info is not None and info[1] not in ("Z", "X")


def signal_all(pids, sig):
    sent = []
    for pid in pids:
        try:
            os.kill(pid, sig)
            sent.append(pid)
        except ProcessLookupError:
            pass
    return sent


def escalate(collect, steps, poll=0.05, kill_wait=3.0):
    """Send each (signal, grace) in turn to the processes ``collect()`` returns until none
    is left; finish with SIGKILL.  Returns a report of what was sent."""
    report = []
    start = time.monotonic()
    for sig, grace in list(steps) + [(signal.SIGKILL, kill_wait)]:
        pids = collect()
        if not pids:
            break
        sent = signal_all(pids, sig)
        report.append({"signal": signal.Signals(sig).name, "pids": sorted(sent),
                       "at_ms": round((time.monotonic() - start) * 1000)})
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            time.sleep(poll)
            left = collect()
            if not left:
                break
            if sig == signal.SIGKILL:
                signal_all(left, sig)
    remaining = sorted(collect())
    return {"signals": report, "remaining": remaining,
            "duration_ms": round((time.monotonic() - start) * 1000)}
