"""One failing source stops nothing else: an unexpected exception in one source's sync is
recorded on that source (``last_error``, shown by `sources list` and GET /v1/sources, counted
on /metrics) and the sources after it still sync in the same round; the next round retries
it."""

from __future__ import annotations

import socketserver
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hashguard.api.server import ServeOptions, create_app
from hashguard.engine import Engine
from hashguard.signals.registry import default_registry
from hashguard.sources.runner import sync_due
from hashguard.store.store import Store
from tests.helpers import serve
from tests.sources.test_sources import Publisher, active, cli, pdq, publisher

__all__ = ["publisher"]  # the fixture, shared with test_sources


@contextmanager
def serve_garbage() -> Iterator[str]:
    """A TCP server on loopback that answers every connection with bytes that are not HTTP
    (http.client raises BadStatusLine, which is not an OSError); yields its URL."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            self.rfile.readline()
            self.wfile.write(b"\x00garbage, not a status line\r\n\r\n")

    with serve(Handler) as base:
        yield f"{base}/feed/"


def test_one_failing_source_does_not_stop_the_others(
    publisher: Publisher, store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pub, feed_dir = publisher.pub, tmp_path / "feed"
    h = publisher.publish_one(feed_dir, capsys)
    store.create_bank("mirror")
    store.create_bank("shared")
    listed = tmp_path / "hashes.txt"
    listed.write_bytes(b"pdq \xff\xfe not UTF-8\n")  # the exchange library's decode fails
    with serve_garbage() as garbage:
        # Sources sync in name order: the two failing ones come first. Interval 0: always due.
        for name, where in (("a-garbage", garbage), ("c-good", str(feed_dir))):
            code, _ = cli(
                store.url, "sources", "add", name, "--bank", "mirror", "--feed", where,
                "--public-key", str(pub), "--interval", "0", capsys=capsys,
            )  # fmt: skip
            assert code == 0
        code, _ = cli(
            store.url, "sources", "add", "b-binary", "--bank", "shared", "--exchange",
            "local_file", "--file", str(listed), "--interval", "0", capsys=capsys,
        )  # fmt: skip
        assert code == 0

        # A short lease, so that the service below can take it over.
        outcomes = {o.source: o for o in sync_due(store, default_registry(), "me", 0.2)}
        assert outcomes.keys() == {"a-garbage", "b-binary", "c-good"}
        assert outcomes["c-good"].status == "ok" and active(store, "mirror") == {h}
        for name, kind in (("a-garbage", "BadStatusLine"), ("b-binary", "UnicodeDecodeError")):
            assert outcomes[name].status == "error" and outcomes[name].reason == "unexpected"
            error = store.sources.get(name).last_error or ""
            assert kind in error and "\x00" not in error, error

        code, listed_sources = cli(store.url, "sources", "list", capsys=capsys)
        errors = {s["name"]: s["last_error"] for s in listed_sources}
        assert code == 0 and errors["c-good"] is None
        assert "BadStatusLine" in errors["a-garbage"]
        assert "UnicodeDecodeError" in errors["b-binary"]

        # The next round retries the failing sources; once the file is readable it syncs
        # and its error is cleared.
        p = pdq()
        listed.write_text(f"pdq {p}\n")
        outcomes = {o.source: o for o in sync_due(store, default_registry(), "me", 0.2)}
        assert outcomes["b-binary"].status == "ok" and active(store, "shared") == {p}
        again = store.sources.get("b-binary")
        assert again.last_error is None and again.last_success_at is not None
        assert outcomes["a-garbage"].status == "error"

        # The service: its schedule goes on past the failing source, GET /v1/sources shows
        # the error, and /metrics counts the failures per source.
        listed.write_bytes(b"pdq \xff\n")
        engine = Engine(store, index_dir=tmp_path / "idx")
        app = create_app(engine, ServeOptions(auth=False, sync_every=0.1))
        with TestClient(app) as client:
            deadline = time.monotonic() + 10
            while True:
                sources = {s["name"]: s for s in client.get("/v1/sources").json()["sources"]}
                text = client.get("/metrics").text
                if (
                    "UnicodeDecodeError" in (sources["b-binary"]["last_error"] or "")
                    and 'source="b-binary",status="error"' in text
                    and 'source="c-good",status="ok"' in text
                ):
                    break
                assert time.monotonic() < deadline, (sources, text)
                time.sleep(0.1)
            assert "BadStatusLine" in sources["a-garbage"]["last_error"]
            assert sources["c-good"]["last_error"] is None
            assert 'hashguard_source_syncs_total{source="a-garbage",status="error"}' in text
