"""The HTTP API in-process: real app, real store, real images."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hashguard.api.server import create_app
from hashguard.content import hash_content
from hashguard.engine import Engine
from hashguard.media.image import DecodeLimits
from hashguard.store.store import Store
from tests.helpers import import_text


@pytest.fixture
def client(store: Store, testdata: Path, tmp_path: Path) -> Iterator[TestClient]:
    store.create_bank("iwf")
    signals = hash_content((testdata / "pdq/bridge-mods/aaa-orig.jpg").read_bytes())
    assert signals.pdq is not None
    import_text(store, "iwf", f"signal_type,signal,id,category\npdq,{signals.pdq.hex()},x1,A\n")
    engine = Engine(store, index_dir=tmp_path / "idx", limits=DecodeLimits(max_bytes=2_000_000))
    with TestClient(create_app(engine)) as c:
        yield c


def test_match_multipart_and_raw_body(client: TestClient, testdata: Path) -> None:
    data = (testdata / "pdq/bridge-mods/blur-a-lot.jpg").read_bytes()
    multipart = client.post("/v1/match", files={"file": ("a.jpg", data, "image/jpeg")})
    raw = client.post(
        "/v1/match", content=data, headers={"content-type": "application/octet-stream"}
    )
    for response in (multipart, raw):
        assert response.status_code == 200
        body = response.json()
        assert body["matches"][0] | {"distance": 0} == {
            "bank": "iwf", "entry": "x1", "signal_type": "pdq", "distance": 0, "category": "A",
        }  # fmt: skip
        assert body["signals"]["pdq_quality"] == 100


def test_bad_uploads_get_clear_errors(client: TestClient) -> None:
    too_big = client.post("/v1/match", content=b"x" * 2_100_000)
    assert too_big.status_code == 413
    assert "limit" in too_big.json()["error"]["message"]
    no_file = client.post("/v1/match", files={"other": ("a", b"1")})
    assert no_file.status_code == 422
    assert no_file.json()["error"]["message"] == "multipart upload has no 'file' field"
    # not an image: still answers, with digests and the reason PDQ is missing
    text = client.post("/v1/match", content=b"hello")
    assert text.status_code == 200 and text.json()["signals"]["media_error"].startswith(
        "not an image"
    )


def test_health(client: TestClient) -> None:
    assert client.get("/v1/health").json()["status"] == "ok"
    assert client.get("/nope").json() == {"error": {"type": "HTTPError", "message": "Not Found"}}
