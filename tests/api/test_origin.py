"""A web page the operator visits cannot use a server on their machine: Host names other
than the allowed ones are refused (DNS rebinding), and so are cross-site state changes
(CSRF, a multipart form included), with keys off as `serve --no-auth` runs on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hashguard.api.server import ServeOptions, create_app, loopback_hosts
from hashguard.engine import Engine
from hashguard.store.store import Store

MD5 = "9e107d9d372bb6826bd81d3542a419d6"
ENTRY = {"id": "planted", "signals": [{"type": "md5", "value": MD5}]}


@pytest.fixture
def local(store: Store, tmp_path: Path) -> Iterator[TestClient]:
    """What `hashguard serve --no-auth --port 8000` on 127.0.0.1 runs."""
    store.create_bank("iwf")
    options = ServeOptions(auth=False, allowed_hosts=loopback_hosts(8000))
    app = create_app(Engine(store, index_dir=tmp_path / "idx"), options)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield client


def _planted(store: Store) -> bool:
    return any(r.get("id") == "planted" for r in store.export_rows("iwf"))


def test_loopback_names_are_answered(local: TestClient, store: Store) -> None:
    for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "localhost"):
        assert local.get("/v1/health", headers={"host": host}).status_code == 200, host
    added = local.post("/v1/banks/iwf/entries", json=ENTRY)  # a script, not a browser
    assert added.status_code == 201, added.text
    assert _planted(store)


def test_a_rebound_dns_name_is_refused(local: TestClient, store: Store) -> None:
    for host in ("evil.example", "evil.example:8000", "127.0.0.1.evil.example:8000"):
        seen = local.get("/v1/banks", headers={"host": host})
        assert seen.status_code == 421, host
        assert seen.json()["error"]["type"] == "UnknownHost"
        added = local.post("/v1/banks/iwf/entries", json=ENTRY, headers={"host": host})
        assert added.status_code == 421
    assert not _planted(store)


def test_cross_site_writes_are_refused(local: TestClient, store: Store) -> None:
    forged = [
        {"origin": "http://evil.example"},
        {"origin": "null"},
        {"origin": "http://localhost:9999"},  # another local port is another origin
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site", "origin": "http://sub.localhost:8000"},
    ]
    for headers in forged:
        added = local.post("/v1/banks/iwf/entries", json=ENTRY, headers=headers)
        assert added.status_code == 403, headers
        assert added.json()["error"]["type"] == "CrossOrigin"
        # the classic CSRF: a multipart form a page may post without asking
        form = local.post(
            "/v1/banks/iwf/entries",
            files={"file": ("a.txt", b"benign", "text/plain")},
            data={"id": "planted"},
            headers=headers,
        )
        assert form.status_code == 403, headers
        assert local.delete("/v1/banks/iwf", headers=headers).status_code == 403
    assert not _planted(store)
    assert [b.name for b in store.banks()] == ["iwf"]


def test_same_origin_browser_writes_and_any_reads_pass(local: TestClient, store: Store) -> None:
    page = {"origin": "http://127.0.0.1:8000", "sec-fetch-site": "same-origin"}
    added = local.post("/v1/banks/iwf/entries", json=ENTRY, headers=page)
    assert added.status_code == 201, added.text
    read = local.get("/v1/banks", headers={"origin": "http://evil.example"})
    assert read.status_code == 200  # reading gives a cross-origin page nothing: no CORS


def test_allowed_hosts_are_configurable(store: Store, tmp_path: Path) -> None:
    store.create_bank("iwf")
    options = ServeOptions(auth=False, allowed_hosts=("hashguard.internal",))
    app = create_app(Engine(store, index_dir=tmp_path / "idx"), options)
    with TestClient(app, base_url="http://hashguard.internal:8000") as client:
        assert client.get("/v1/health").status_code == 200
        assert client.get("/v1/health", headers={"host": "127.0.0.1"}).status_code == 421
