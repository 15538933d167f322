"""Per-run supervisor: ``python -m webhook.executor.shim EVENT_FD`` with its spec (JSON) on
stdin.

It runs one playbook through ``ansible_runner.run`` and writes one JSON line per runner
event to EVENT_FD.  It is a child subreaper (orphans of the run re-parent to it, so the
worker can find and kill them), it dies with its worker (parent-death signal), it ignores
the SIGINT/SIGTERM the worker sends to the run's processes (so it can report the outcome),
and it removes secrets from everything it writes: the ``env`` of the ``starting`` status is
dropped, values of secret-looking environment variables are masked in every event, and the
``command`` artifact (which ansible-runner writes with the full environment) is rewritten.
"""

import fnmatch
import json
import os
import shlex
import signal
import sys
import threading
import time

from ..files import atomic_write
from . import procs
from .masking import Masker

def secret_env_values(environ, patterns):
    return [value for name, value in environ.items()
            if any(fnmatch.fnmatchcase(name.upper(), p.upper()) for p in patterns)]


def redact_in_place(event, mask):
    """ansible-runner writes the dict the handler got to job_events/: clean it in place."""
    clean = mask(event)
    event.clear()
    event.update(clean)


class Shim:
    def __init__(self, spec, out):
        self.spec = spec
        self.out = out
        self.lock = threading.Lock()
        self.mask = Masker(secret_env_values(os.environ, spec["secret_env"])
                           + list(spec.get("secret_values") or ()))
        self.protected = set()
        self.done = threading.Event()

    def emit(self, kind, **payload):
        line = json.dumps(dict(payload, k=kind), separators=(",", ":"), default=str)
        with self.lock:
            self.out.write(line + "\n")
            self.out.flush()

    def on_event(self, event):
        redact_in_place(event, self.mask)
        self.emit("event", e=event)
        return True

    def on_status(self, data, runner_config=None):
        status = data.get("status")
        if status == "running":
            self.scrub_command_file()
        self.emit("status", status=status)

    def scrub_command_file(self):
        path = os.path.join(self.spec["private_data_dir"], "artifacts", self.spec["ident"],
                            "command")
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return
        data.pop("env", None)
        data = self.mask(data)
        atomic_write(path, json.dumps(data).encode("utf-8"))

    def reap_orphans(self):
        """Orphans re-parent to us; collect their exit status so no zombie lingers."""
        me = os.getpid()
        while not self.done.wait(0.2):
            self._reap_once(me)

    def _reap_once(self, me):
        for pid, (ppid, state) in procs.process_table().items():
            if ppid == me and state == "Z" and pid not in self.protected:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass

    def run(self):
        import ansible_runner
        import pexpect

        shim = self

        class TrackedSpawn(pexpect.spawn):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                shim.protected.add(self.pid)

        pexpect.spawn = TrackedSpawn
        spec = self.spec
        kwargs = {
            "private_data_dir": spec["private_data_dir"], "ident": spec["ident"],
            # `extravars=` would be copied to env/extravars under data_dir: pass the private
            # file (every request string tagged !unsafe in it) on the command line instead
            "playbook": spec["playbook"], "cmdline": shlex.join(["-e", "@" + spec["extravars_file"]]),
            "quiet": True, "suppress_output_file": True, "rotate_artifacts": 0,
            "event_handler": self.on_event, "status_handler": self.on_status,
            # the settings win over the keyword: both say no stdout/stderr artifact files
            "settings": {"suppress_ansible_output": True, "suppress_output_file": True,
                         "pexpect_timeout": 1},
            # facts (and whatever they hold of the environment) stay in memory
            "fact_cache_type": "memory",
        }
        if spec.get("inventory"):
            kwargs["inventory"] = spec["inventory"]
        if spec.get("cwd"):
            kwargs["project_dir"] = spec["cwd"]
        if spec.get("limit"):
            kwargs["limit"] = spec["limit"]
        if spec.get("tags"):
            kwargs["tags"] = ",".join(spec["tags"])
        reaper = threading.Thread(target=self.reap_orphans, daemon=True)
        reaper.start()
        try:
            runner = ansible_runner.run(**kwargs)
            status, rc = runner.status, runner.rc
        except Exception as exc:  # the worker turns this into an `error` run
            self.emit("error", message=f"{type(exc).__name__}: {self.mask(str(exc))}")
            status, rc = "error", None
        self.scrub_command_file()
        self.done.set()
        self.emit("done", status=status, rc=rc)


def _die_with_parent(_signum, _frame):
    # One sweep can miss a process forked after it read the table; that orphan re-parents
    # to us (the subreaper) and the next sweep gets it.  Zombies are dead already.
    me = os.getpid()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        table = procs.process_table()
        living = [pid for pid in procs.descendants(me, table) if table[pid][1] not in ("Z", "X")]
        if not living:
            break
        procs.signal_all(living, signal.SIGKILL)
        time.sleep(0.02)
    os._exit(1)


def main(argv=None):
    argv = argv if argv is not None else sys.argv[1:]
    fd = int(argv[0])
    spec = json.load(sys.stdin)
    procs.prctl(procs.PR_SET_CHILD_SUBREAPER, 1)
    signal.signal(signal.SIGUSR1, _die_with_parent)
    procs.prctl(procs.PR_SET_PDEATHSIG, signal.SIGUSR1)
    if os.getppid() != spec["parent_pid"]:
        return 1  # the worker died before we armed the parent-death signal
    # A Python handler (not SIG_IGN) so the playbook's processes still get default handling.
    signal.signal(signal.SIGINT, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: None)
    out = os.fdopen(fd, "w", encoding="utf-8")
    Shim(spec, out).run()
    out.close()
    time.sleep(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
