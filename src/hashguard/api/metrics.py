"""GET /metrics in Prometheus's text format: requests, latency, matches, index size and lag.

With several worker processes, ``serve`` points PROMETHEUS_MULTIPROC_DIR at a fresh
directory before starting them; each worker writes its figures there and any worker's
/metrics answers for all of them.
"""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hashguard.api.auth import Matcher
from hashguard.index.entries import EntryCache

router = APIRouter(tags=["service"])

_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """The service's figures. One instance per process (Prometheus metrics are global)."""

    def __init__(self) -> None:
        self.requests = Counter(
            "hashguard_requests", "HTTP requests", ["route", "method", "status"]
        )
        self.latency = Histogram(
            "hashguard_request_seconds", "HTTP request latency", ["route"], buckets=_BUCKETS
        )
        self.matches = Counter("hashguard_matches", "Matches returned", ["bank", "signal_type"])
        self.probing = Counter(
            "hashguard_probing_alarms",
            "Keys whose queries looked like probing of the lists (then blocked a while)",
            ["key"],
        )
        self.syncs = Counter(
            "hashguard_source_syncs",
            "Source syncs by outcome: ok, rejected (alert), unavailable, error",
            ["source", "status"],
        )
        self.index_size = Gauge(
            "hashguard_index_entries",
            "Signals in the in-memory index",
            ["signal_type"],
            multiprocess_mode="liveall",
        )
        self.index_seq = Gauge(
            "hashguard_index_seq",
            "Last change-log sequence number applied",
            multiprocess_mode="liveall",
        )
        self.index_lag = Gauge(
            "hashguard_index_lag",
            "Changes logged but not yet applied to the index",
            multiprocess_mode="liveall",
        )
        self.entry_reads = Gauge(
            "hashguard_entry_reads",
            "Matched entries read since each worker started, by where from: memory (kept "
            "since an earlier match) or store",
            ["source"],
            multiprocess_mode="livesum",
        )

    def matched(self, matches: list[dict[str, Any]]) -> None:
        for m in matches:
            self.matches.labels(m["bank"], m["signal_type"]).inc()

    def synced(self, source: str, status: str) -> None:
        self.syncs.labels(source, status).inc()

    def entries(self, cache: EntryCache) -> None:
        self.entry_reads.labels("memory").set(cache.hits)
        self.entry_reads.labels("store").set(cache.misses)

    def index(self, sizes: dict[str, int], seq: int, lag: int) -> None:
        for name, size in sizes.items():
            self.index_size.labels(name).set(size)
        self.index_seq.set(seq)
        self.index_lag.set(lag)


_metrics: Metrics | None = None


def metrics() -> Metrics:
    global _metrics
    if _metrics is None:
        _metrics = Metrics()
    return _metrics


class Timing:
    """ASGI middleware: count and time every request by its route's template
    (``/v1/banks/{bank}``, not the path), so label values stay few. Plain ASGI rather than
    ``BaseHTTPMiddleware``, which costs a task per request on the hot path."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            name = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(name, scope["method"], str(status)).inc()
            self.metrics.latency.labels(name).observe(time.perf_counter() - started)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def prometheus(request: Request, caller: Matcher) -> Response:
    metrics().entries(request.app.state.engine.indexes.entries)  # this worker's, up to now
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        data = generate_latest(registry)
    else:
        data = generate_latest()
    return Response(data, media_type=CONTENT_TYPE_LATEST)
