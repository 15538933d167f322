"""Local executor: one ansible-runner private data dir per run, run by a supervisor
process (``webhook.executor.shim``) whose events arrive over a pipe."""

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from ..domain import vars_policy
from ..domain.run_env import run_environment
from . import Executor, Outcome, extravars, procs

BATCH_MAX = 500


class RunnerExecutor(Executor):
    def __init__(self, config):
        self.config = config

    def run_dir(self, run_id):
        return os.path.join(self.config.runs_dir, run_id)

    def discard(self, run_id):
        remove_private_dirs(run_id)

    def _env(self, job):
        env = run_environment(self.config, job.entry)
        env[procs.TAG_VAR] = job.run_id
        if job.entry.cwd:
            # what a shell would set for a command started there; the collection's playbooks
            # use the real working directory, other playbooks may read $PWD
            env["PWD"] = job.entry.cwd
        # ansible-playbook comes from the environment this service runs in (its venv)
        env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
        # the supervisor must import this package whatever the playbook's cwd is
        pkg_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_root, env.get("PYTHONPATH")) if p)
        return env

    def _spec(self, job, rundir, private):
        """What the supervisor needs, sent over its stdin: nothing of it is written under
        data_dir. The extra vars go to a 0600 file in ``private`` (RAM-backed where
        /dev/shm exists), removed when the run's supervisor has exited."""
        path = os.path.join(private, "extravars.yml")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(extravars.dump(extravars.with_files(job.extravars, job.entry.files),
                                        vars_policy.trusted_paths(job.entry.schema,
                                                                  job.extravars)))
        return {
            "private_data_dir": rundir, "ident": job.ident, "playbook": job.entry.playbook,
            "inventory": job.entry.inventory, "cwd": job.entry.cwd, "extravars_file": path,
            "limit": job.limit, "tags": job.tags, "secret_env": self.config.executor["secret_env"],
            "secret_values": list(job.secrets),
            "parent_pid": os.getpid(),
        }

    def execute(self, job, sink, should_stop, on_started):
        rundir = self.run_dir(job.run_id)
        os.makedirs(rundir, mode=0o700, exist_ok=True)
        cgroup = procs.run_cgroup(job.run_id, job.ident)
        private = private_dir(job.run_id, job.ident)
        try:
            return self._execute(job, sink, should_stop, on_started, rundir, cgroup, private)
        finally:
            shutil.rmtree(private, ignore_errors=True)

    def _execute(self, job, sink, should_stop, on_started, rundir, cgroup, private):
        spec = self._spec(job, rundir, private)
        read_fd, write_fd = os.pipe()
        with open(os.path.join(rundir, f".{job.ident}.log"), "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "webhook.executor.shim", str(write_fd)],
                pass_fds=[write_fd], env=self._env(job), cwd=rundir, stdin=subprocess.PIPE,
                stdout=log, stderr=log, start_new_session=True)
        os.close(write_fd)
        try:
            proc.stdin.write(json.dumps(spec).encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass  # the supervisor died at once: reported below as an error
        # the supervisor is still starting Python here, it has no children yet
        if cgroup and not procs.join_cgroup(cgroup, proc.pid):
            cgroup = None
        on_started(proc.pid, "cgroup2+subreaper+env" if cgroup else "subreaper+env")
        # run.started is stored before any runner event
        reader = _Reader(read_fd, sink, job.phase)
        reader.start()
        started = time.monotonic()
        interrupted, kill_report = None, None
        while True:
            try:
                proc.wait(timeout=0.05)   # returns as soon as the supervisor exits
                break
            except subprocess.TimeoutExpired:
                pass
            reason = should_stop()
            if reason is None and time.monotonic() - started > job.timeout:
                reason = "timeout"
            if reason:
                interrupted = reason
                kill_report = self._stop(job, proc, cgroup)
                break
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join()
        leftovers = None
        if self.config.executor["kill_leftovers"]:
            left = procs.run_processes(job.run_id, cgroup=cgroup)
            if left:
                leftovers = procs.escalate(
                    lambda: procs.run_processes(job.run_id, cgroup=cgroup),
                    [(signal.SIGTERM, 0.5)])
        procs.remove_cgroup(cgroup)
        done = reader.done or {}
        status = done.get("status")
        if status not in ("successful", "failed"):
            status = "error" if not interrupted else "failed"
        message = reader.error or (None if reader.done else
                                   f"run supervisor exited with code {proc.returncode} "
                                   f"without a result (see {rundir}/.{job.ident}.log)")
        return Outcome(status=status, rc=done.get("rc"), interrupted=interrupted,
                       kill_report=kill_report, leftovers=leftovers, message=message,
                       events=reader.count)

    def _stop(self, job, proc, cgroup):
        """SIGINT, then SIGTERM, then SIGKILL to every process of the run but the supervisor,
        which then reports the outcome; a supervisor that hangs is killed too."""
        grace = self.config.cancel
        report = procs.escalate(
            lambda: procs.run_processes(job.run_id, root=proc.pid, exclude={proc.pid},
                                        cgroup=cgroup),
            [(signal.SIGINT, grace["sigint_grace"]), (signal.SIGTERM, grace["sigterm_grace"])])
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            report["supervisor_killed"] = True
        return report


PRIVATE_PREFIX = "skyforge-run-"


def private_root():
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()


def private_dir(run_id, ident):
    return tempfile.mkdtemp(prefix=f"{PRIVATE_PREFIX}{run_id}-{ident}-", dir=private_root())


def remove_private_dirs(run_id):
    """What a killed worker left of a run outside data_dir (its extra vars file)."""
    root = private_root()
    for name in os.listdir(root):
        if name.startswith(f"{PRIVATE_PREFIX}{run_id}-"):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


class _Reader(threading.Thread):
    """Reads the supervisor's JSON lines and hands events to the sink in batches: whatever
    is already in the pipe goes in one transaction, so a burst costs few commits while a
    lone event is written at once."""

    def __init__(self, fd, sink, phase):
        super().__init__(daemon=True)
        self.fd, self.sink, self.phase = fd, sink, phase
        self.done, self.error, self.count = None, None, 0

    def run(self):
        buf, batch = b"", []
        try:
            while True:
                chunk = os.read(self.fd, 1 << 16)
                if not chunk:
                    break
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    self._line(line, batch)
                ready, _, _ = select.select([self.fd], [], [], 0)
                if batch and (not ready or len(batch) >= BATCH_MAX):
                    self._flush(batch)
            if buf.strip():
                self._line(buf, batch)
            self._flush(batch)
        finally:
            os.close(self.fd)

    def _line(self, line, batch):
        try:
            msg = json.loads(line)
        except ValueError:
            return
        kind = msg.get("k")
        if kind == "event":
            event = msg["e"]
            if self.phase != "main":
                event["phase"] = self.phase
            batch.append((event.get("event") or "verbose", event, time.time()))
        elif kind == "done":
            self.done = msg
        elif kind == "error":
            self.error = msg.get("message")

    def _flush(self, batch):
        if batch:
            self.sink(list(batch))
            self.count += len(batch)
            batch.clear()
