"""Prometheus metrics computed from the store at scrape time.

Gauges (queue, running, workers) are read from the database and counters/histograms from
its ``counters`` table, which the store bumps inside the transaction that changes a run.
So every gunicorn worker answers the same numbers and nothing needs prometheus_client's
multiprocess mode (no shared directory, no per-process files to clean up).
"""

import time
from collections import defaultdict

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily,
                                    HistogramMetricFamily)

from ..store import worker_alive
from ..store.sql import BUCKETS

PREFIX = "skyforge_webhook_"
HISTOGRAM_HELP = {
    "queue_latency_seconds": "Time from submission to claim by a worker.",
    "run_duration_seconds": "Time from process start to the final status.",
    "cancel_latency_seconds": "Time from the cancel request to the canceled status.",
}


class StoreCollector:
    def __init__(self, config, store):
        self.config, self.store = config, store

    def collect(self):
        now = time.time()
        stats = self.store.queue_stats(now)
        playbooks = sorted(set(self.config.playbooks) | set(stats["queued"])
                           | set(stats["running"]))
        for state in ("queued", "running"):
            gauge = GaugeMetricFamily(f"{PREFIX}runs_{state}", f"Runs {state}, by playbook.",
                                      labels=["playbook"])
            for name in playbooks:
                gauge.add_metric([name], stats[state].get(name, 0))
            yield gauge
        yield GaugeMetricFamily(f"{PREFIX}queue_depth", "Runs waiting in the queue.",
                                value=stats["depth"])
        yield GaugeMetricFamily(f"{PREFIX}queue_oldest_age_seconds",
                                "Age of the oldest queued run (0 when empty).",
                                value=stats["oldest_queued_age"])
        workers = [w for w in self.store.workers()
                   if worker_alive(w, now, self.config.worker["dead_after"])]
        yield GaugeMetricFamily(f"{PREFIX}workers_alive", "Workers with a recent heartbeat.",
                                value=len(workers))
        yield GaugeMetricFamily(f"{PREFIX}workers_busy", "Live workers running at least one run.",
                                value=sum(1 for w in workers if w["busy"]))
        yield GaugeMetricFamily(f"{PREFIX}worker_slots", "Run slots of live workers.",
                                value=sum(w["slots"] or 0 for w in workers))
        yield GaugeMetricFamily(f"{PREFIX}worker_slots_busy", "Busy run slots of live workers.",
                                value=sum(w["busy"] or 0 for w in workers))
        yield from self._from_counters()

    def _from_counters(self):
        rows = self.store.counters()
        finished = CounterMetricFamily(f"{PREFIX}runs_finished", "Runs that reached a final "
                                       "status.", labels=["status", "playbook"])
        rejected = CounterMetricFamily(f"{PREFIX}submissions_rejected", "Submissions refused, "
                                       "by reason.", labels=["reason"])
        hist = defaultdict(lambda: {"buckets": {}, "sum": 0.0})
        for name, labels, value in rows:
            if name == "runs_finished_total":
                finished.add_metric([labels.get("status", ""), labels.get("playbook", "")], value)
            elif name == "submissions_rejected_total":
                rejected.add_metric([labels.get("reason", "")], value)
            else:
                base, _, part = name.rpartition("_")
                if base not in BUCKETS:
                    continue
                key = (base, tuple(sorted((k, v) for k, v in labels.items() if k != "le")))
                if part == "bucket":
                    hist[key]["buckets"][labels["le"]] = value
                elif part == "sum":
                    hist[key]["sum"] = value
        yield finished
        yield rejected
        families = {}
        for (base, labels), data in sorted(hist.items()):
            names = [k for k, _ in labels]
            family = families.get(base)
            if family is None:
                family = families[base] = HistogramMetricFamily(
                    PREFIX + base, HISTOGRAM_HELP[base], labels=names)
            bounds = [str(float(le)) for le in BUCKETS[base]] + ["+Inf"]
            family.add_metric([v for _, v in labels],
                              [(le, data["buckets"].get(le, 0.0)) for le in bounds],
                              data["sum"])
        for base in BUCKETS:
            yield families.get(base) or HistogramMetricFamily(PREFIX + base, HISTOGRAM_HELP[base],
                                                              labels=[])


def make_registry(config, store):
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(config, store))
    return registry


def render(registry):
    return generate_latest(registry)
