"""Liveness, readiness, index state and Prometheus metrics."""

from __future__ import annotations

import gc
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hashguard.api.server import ServeOptions, create_app
from hashguard.engine import Engine
from hashguard.store.store import Store
from tests.api.conftest import Service


def test_health_ready_and_index(service: Service) -> None:
    assert service.client.get("/v1/health").json() == {"status": "ok", "auth": "required"}
    ready = service.client.get("/v1/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert service.client.get("/v1/index").status_code == 401
    index = service.call("GET", "/v1/index", "match").json()
    assert index["lag"] == 0 and index["types"]["pdq"]["size"] == 1
    assert index["types"]["md5"]["size"] == 0


def test_not_ready_until_loaded(store: Store, tmp_path: Path) -> None:
    key = store.keys.create("m", ["match"], actor="test")[1]
    engine = Engine(store, index_dir=tmp_path / "idx", load=False)
    client = TestClient(create_app(engine))  # no lifespan: nothing loads the indexes
    assert client.get("/v1/ready").status_code == 503
    body = {"signals": [{"type": "md5", "value": "0" * 32}]}
    refused = client.post("/v1/match", json=body, headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    engine.load()
    assert client.get("/v1/ready").status_code == 200


@pytest.mark.parametrize("freeze", [False, True])
def test_serve_workers_freeze_what_they_loaded(store: Store, tmp_path: Path, freeze: bool) -> None:
    assert gc.get_freeze_count() == 0
    engine = Engine(store, index_dir=tmp_path / "idx", load=False)
    try:
        with TestClient(create_app(engine, ServeOptions(freeze_loaded=freeze))) as client:
            deadline = time.monotonic() + 10
            while client.get("/v1/ready").status_code != 200:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            # only `serve` (which sets the option) takes objects out of the collector's way
            assert (gc.get_freeze_count() > 0) is freeze
    finally:
        gc.unfreeze()


def test_metrics_count_requests_and_matches(service: Service, original_pdq: str) -> None:
    body = {"signals": [{"type": "pdq", "value": original_pdq}]}
    for _ in range(3):
        service.call("POST", "/v1/match", "match", json=body)
    text = service.call("GET", "/metrics", "match").text
    lines = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    route = 'hashguard_requests_total{method="POST",route="/v1/match",status="200"}'
    assert lines[route] >= 3
    assert lines['hashguard_matches_total{bank="iwf",signal_type="pdq"}'] >= 3
    assert lines['hashguard_request_seconds_count{route="/v1/match"}'] >= 3
    # the matched entry was read from the store once, then kept
    assert lines['hashguard_entry_reads{source="store"}'] >= 1
    assert lines['hashguard_entry_reads{source="memory"}'] >= 2
    assert service.client.get("/metrics").status_code == 401
