"""Find and stop every process a run started, using /proc.

A run's processes are (a) the descendants of its supervisor, which is a child subreaper so
orphans (double forks, ``setsid`` daemons) re-parent to it instead of init, and (b) any
process whose environment carries the run's tag (``SKYFORGE_RUN_ID=<id>``), which catches
processes that escaped the tree when the supervisor itself died.  Linux only.
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


def run_processes(run_id, root=None, exclude=()):
    """Live (non-zombie) processes belonging to a run."""
    table = process_table()
    pids = tagged(run_id, table)
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
