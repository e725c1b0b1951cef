"""The real app in-process around a real store (SQLite and PostgreSQL), with one key per
scope, and a bank holding the PDQ of one of the reference images."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from hashguard.api.server import ServeOptions, create_app
from hashguard.content import hash_content
from hashguard.engine import Engine
from hashguard.media.image import DecodeLimits
from hashguard.store.store import Store
from tests.helpers import import_text

UPLOAD_LIMIT = 2_000_000
ORIGINAL = "pdq/bridge-mods/aaa-orig.jpg"


@dataclass
class Service:
    client: TestClient
    engine: Engine
    keys: dict[str, str]  # scope -> key

    def auth(self, scope: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[scope]}"}

    def call(self, method: str, url: str, scope: str = "curate", **kwargs: Any) -> httpx.Response:
        headers = {**self.auth(scope), **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)


def make_service(
    store: Store, tmp_path: Path, options: ServeOptions | None = None
) -> Iterator[Service]:
    keys = {
        scope: store.keys.create(f"test-{scope}", [scope], actor="test")[1]
        for scope in ("match", "curate", "admin")
    }
    # a match key also told how close each match is
    distance = store.keys.create("test-match-distance", ["match", "match:distance"], actor="test")
    keys["match:distance"] = distance[1]
    engine = Engine(store, index_dir=tmp_path / "idx", limits=DecodeLimits(max_bytes=UPLOAD_LIMIT))
    with TestClient(create_app(engine, options)) as client:
        yield Service(client, engine, keys)


@pytest.fixture
def original_pdq(testdata: Path) -> str:
    signals = hash_content((testdata / ORIGINAL).read_bytes())
    assert signals.pdq is not None
    return signals.pdq.hex()


@pytest.fixture
def service(store: Store, tmp_path: Path, original_pdq: str) -> Iterator[Service]:
    store.create_bank("iwf")
    import_text(store, "iwf", f"signal_type,signal,id,category\npdq,{original_pdq},x1,A\n")
    yield from make_service(store, tmp_path)
