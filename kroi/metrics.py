"""Prometheus metrics, counted across every worker process (prometheus-client's multi-process mode).

With PROMETHEUS_MULTIPROC_DIR set before this module is first imported, each process writes its values to
files in that directory and a scrape adds them up (`kroi serve` and the Docker image set it and empty it
when the server starts). Without it (tests, one-off commands) the values live in this process.
Gauges that describe the database or Redis as a whole (outbox, view buffer) are not kept per process: the
scraping worker reads them at scrape time (kroi/web/observability.py).
"""
from __future__ import annotations

import atexit
import os
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY

ENV = "PROMETHEUS_MULTIPROC_DIR"
# The mode prometheus-client chose when it was first imported (it reads the variable once, then).
MULTIPROCESS = values.ValueClass is not values.MutexValue
UNMATCHED = "<unmatched>"  # the route label of every request no route answered (404s): one series, not one per URL

DIRECTORY = Path(os.environ.get(ENV) or os.environ.get(ENV.lower()) or ".") if MULTIPROCESS else None
if DIRECTORY is not None:  # it must exist before the first value is written
    DIRECTORY.mkdir(parents=True, exist_ok=True)

REQUESTS = Counter("kroi_http_requests_total", "HTTP requests answered, by route template, method and status",
                   ["route", "method", "status"])
LATENCY = Histogram("kroi_http_request_duration_seconds", "Time to answer a request, by route template and method",
                    ["route", "method"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
CACHE = Counter("kroi_fragment_cache_total",
                "Fragment cache lookups and Redis calls: hit, miss, error (Redis failed), skip (breaker open)",
                ["result"])
BREAKER_OPENINGS = Counter("kroi_redis_breaker_openings_total", "Times a worker's Redis circuit breaker opened",
                           ["redis"])  # cache, state, or shared (one server for both roles)
BREAKER_OPEN_UNTIL = Gauge("kroi_redis_breaker_open_until_seconds",
                           "Unix time until which Redis is skipped (latest of all workers; open while > time())",
                           ["redis"], multiprocess_mode="livemax")
for _role in ("cache", "state", "shared"):  # every series exists from the start, at 0
    BREAKER_OPENINGS.labels(_role)
POOL_IN_USE = Gauge("kroi_db_pool_connections_in_use", "Database connections checked out of the pools",
                    multiprocess_mode="livesum")
POOL_OVERFLOW = Gauge("kroi_db_pool_overflow", "Connections open beyond the pools' size (max_overflow in use)",
                      multiprocess_mode="livesum")
POOL_TIMEOUTS = Counter("kroi_db_pool_timeouts_total",
                        "Requests that waited KROI_DB_POOL_TIMEOUT for a connection and gave up")
LEADS = Counter("kroi_leads_created_total", "Leads created from the visitor forms, by type", ["type"])

for _result in ("hit", "miss", "error", "skip"):  # present from the first scrape on, at 0
    CACHE.labels(_result)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_dead_workers() -> None:
    """Drop the live gauges of workers that died without exiting cleanly (a crash, a kill -9); a worker that
    exits normally marks itself (atexit). Counters of dead workers are kept: totals never go backwards."""
    if DIRECTORY is None:
        return
    for file in DIRECTORY.glob("gauge_live*_*.db"):
        pid = file.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            multiprocess.mark_process_dead(int(pid))


def process_exiting() -> None:
    """Mark this process dead (its live gauges stop counting). uvicorn's workers are multiprocessing children,
    which end without running atexit: the app calls this at the end of its lifespan."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(os.getpid())


atexit.register(process_exiting)


class _Snapshot:
    """A collector of values read beforehand (scrape time: the database and Redis are asked asynchronously)."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self):  # noqa: ANN201
        return iter(self.families)


def render(extra: list[GaugeMetricFamily]) -> bytes:
    """The exposition text: every worker's metrics (multi-process) or this process's, plus the scrape-time gauges."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Forward(REGISTRY))
    registry.register(_Snapshot(extra))
    return generate_latest(registry)


class _Forward:
    """The process's default registry inside a fresh one (so the scrape-time gauges never stay registered)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self):  # noqa: ANN201
        return self.registry.collect()


def gauge(name: str, doc: str, value: float | None, labels: dict[str, str] | None = None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=list(labels or {}))
    if value is not None:
        family.add_metric(list((labels or {}).values()), value)
    return family
