"""GET /metrics in Prometheus's text format (the figures are kept in
:mod:`hashguard.runtime.metrics`), and the middleware that counts and times requests.

With several worker processes, ``serve`` points PROMETHEUS_MULTIPROC_DIR at a fresh
directory before starting them; each worker writes its figures there and any worker's
/metrics answers for all of them.
"""

from __future__ import annotations

import os
import time

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hashguard.api.auth import Matcher
from hashguard.runtime.metrics import Metrics, metrics

router = APIRouter(tags=["service"])


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
    metrics().entries(*request.app.state.engine.entry_reads)  # this worker's, up to now
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        data = generate_latest(registry)
    else:
        data = generate_latest()
    return Response(data, media_type=CONTENT_TYPE_LATEST)
