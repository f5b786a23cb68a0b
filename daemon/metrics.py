"""Prometheus metrics for ``GET /metrics``, on a registry of our own.

Counters are bumped where the work happens (the webhook receiver, the daemon's loops, the
provider wrapper in ``health.py``); job counts are read from the state database at scrape
time, so they are right even just after a restart. The ``*_created`` series are disabled:
they double the output and nobody graphs them.

Write-back latency is measured from the moment a result reaches locsync (a webhook is
accepted, or catch-up fetches it) to the moment its target file is on disk.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

disable_created_metrics()  # type: ignore[no-untyped-call]

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
_TRACKED_MAX = 10_000


class _JobsCollector(Collector):
    """``locsync_jobs{state, status}`` read from the state database on every scrape."""

    def __init__(self, counts: Callable[[], dict[tuple[str, str], int]]) -> None:
        self.counts = counts

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "locsync_jobs", "Jobs by locsync state (open, received, applied, failed) and provider status.",
            labels=["state", "status"],
        )
        try:
            counts = self.counts()
        except Exception:  # a closed database must not break the scrape
            counts = {}
        for (state, status), count in sorted(counts.items()):
            family.add_metric([state, status], count)
        yield family

    def describe(self) -> Iterable[Metric]:
        return []


class Metrics:
    """Every metric locsync exports, registered on ``self.registry``."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.groups_submitted = Counter(
            "locsync_groups_submitted", "Job groups accepted by the provider (including idempotent replays).",
            registry=r,
        )
        self.webhook_deliveries = Counter(
            "locsync_webhook_deliveries", "Webhook deliveries by result (accepted, duplicate, rejected) and reason.",
            ["result", "reason"], registry=r,
        )
        self._webhook_children: dict[tuple[str, str], Counter] = {}  # reasons are our own few names
        self.writeback_latency = Histogram(
            "locsync_writeback_latency_seconds",
            "From a result reaching locsync (webhook accepted, or fetched by catch-up) to its file on disk.",
            ["channel"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.catchup_runs = Counter(
            "locsync_catchup_runs", "Catch-up passes over open jobs, by result (ok, error).", ["result"], registry=r,
        )
        self.git_commits = Counter("locsync_git_commits", "Commits locsync made.", registry=r)
        self.git_failures = Counter("locsync_git_commit_failures", "Commit attempts that failed.", registry=r)
        self.provider_requests = Counter(
            "locsync_provider_requests", "Calls to the provider by operation and outcome (ok, error).",
            ["operation", "outcome"], registry=r,
        )
        self.provider_last_success = Gauge(
            "locsync_provider_last_success_timestamp_seconds", "Unix time of the last successful provider call.",
            registry=r,
        )
        self.config_reloads = Counter(
            "locsync_config_reloads", "SIGHUP config reloads by result (applied, rejected).", ["result"], registry=r,
        )
        self.ready = Gauge("locsync_ready", "1 once start-up reconciliation is done and READY=1 was sent.", registry=r)
        self._received: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._jobs: _JobsCollector | None = None

    def watch_jobs(self, counts: Callable[[], dict[tuple[str, str], int]]) -> None:
        """Export ``locsync_jobs`` from ``counts`` (the state database's ``job_counts``)."""
        if self._jobs is not None:
            self.registry.unregister(self._jobs)
        self._jobs = _JobsCollector(counts)
        self.registry.register(self._jobs)

    # --- events ---------------------------------------------------------------------------

    def webhook(self, result: str, reason: str = "") -> None:
        # the labelled child is looked up once per outcome: ``labels()`` costs a lock and a
        # tuple of str() calls, for every delivery (``bench/ingest.py``)
        child = self._webhook_children.get((result, reason))
        if child is None:
            child = self._webhook_children[(result, reason)] = self.webhook_deliveries.labels(result=result, reason=reason)
        child.inc()

    def result_arrived(self, job_id: str, channel: str) -> None:
        """Start the write-back clock of ``job_id`` (the first arrival wins)."""
        if job_id in self._received:
            return
        self._received[job_id] = (channel, self.clock())
        while len(self._received) > _TRACKED_MAX:
            self._received.popitem(last=False)

    def results_written(self, job_ids: Iterable[str]) -> None:
        """Stop the clock of each job whose result is now on disk."""
        now = self.clock()
        for job_id in job_ids:
            started = self._received.pop(job_id, None)
            if started is not None:
                channel, at = started
                self.writeback_latency.labels(channel=channel).observe(max(0.0, now - at))

    def tracked(self) -> Iterator[str]:
        return iter(self._received)

    # --- exposition -----------------------------------------------------------------------

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def endpoint(self, _request: Request) -> Response:
        return Response(self.render(), media_type=CONTENT_TYPE_LATEST)
