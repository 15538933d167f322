"""Executors run one catalog playbook for a run and report its events.

The interface is small so a Kubernetes Job executor can sit next to the local one
(``backends.make_executor`` picks one): ``execute(job, sink, should_stop, on_started) ->
Outcome``.  ``sink(events)`` receives lists of ``(type, data, ts)`` in order;
``should_stop()`` returns None or a reason ('cancel', 'timeout', 'shutdown', 'lost') and
the executor must then stop every process of the run; ``on_started(pid, isolation)`` is
called once the run's process exists.
"""

import abc
import dataclasses
from typing import Any, Optional


@dataclasses.dataclass
class Job:
    run_id: str
    ident: str            # artifact name inside the run's private data dir ("main", "on_cancel-1")
    entry: Any            # the catalog PlaybookEntry
    extravars: dict
    limit: Optional[str]
    tags: Optional[list]
    timeout: float
    phase: str = "main"
    secrets: tuple = ()   # values to mask in everything the run reports


@dataclasses.dataclass
class Outcome:
    status: str                       # successful | failed | error
    rc: Optional[int]
    interrupted: Optional[str] = None  # the should_stop() reason that ended it
    kill_report: Optional[dict] = None
    leftovers: Optional[dict] = None
    message: Optional[str] = None
    events: int = 0


class Executor(abc.ABC):
    @abc.abstractmethod
    def execute(self, job: Job, sink, should_stop, on_started) -> Outcome:
        """Run ``job`` to completion or until ``should_stop()`` returns a reason.
        ``on_started(pid, isolation)`` is called once the job's process exists."""

    def run_dir(self, run_id) -> Optional[str]:
        """Where the run keeps its files, if anywhere (removed by retention)."""
        return None

    def discard(self, run_id) -> None:
        """Remove what a run that died with its worker left outside its run dir."""
