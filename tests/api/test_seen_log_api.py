"""The seen log through the real app: every check recorded off the request path (hashes and
context ids; a message only as its digest), kept verdicts with their match_id, rows kept in
memory while the database cannot be written, and on PostgreSQL a partition per day."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from hashguard.store import seen_log
from hashguard.store.seen_log import SeenLog, seen_row
from hashguard.store.store import Store
from tests.api.conftest import ORIGINAL, Service
from tests.helpers import import_text


def test_every_check_is_seen(service: Service, testdata: Path, original_pdq: str) -> None:
    seen = service.engine.store.seen_log
    import_text(service.engine.store, "iwf", "signal_type,signal,id\nurl,example.com/bad,u1\n")
    service.engine.refresh()
    upload = service.call(
        "POST", "/v1/match", "match",
        files={"file": ("a.jpg", (testdata / ORIGINAL).read_bytes(), "image/jpeg")},
        data={"content_id": "c-1", "chat_id": "g-1", "surface": "group"},
    ).json()  # fmt: skip
    miss = {"signals": [{"type": "md5", "value": "0" * 32}], "chat_id": "g-2", "uploader_id": "u"}
    service.call("POST", "/v1/match", "match", json=miss)
    service.call("POST", "/v1/match/text", "match", json={"text": "see example.com/bad now"})
    seen.flush()
    rows = {r["verdict"] + (r["chat_id"] or "-"): r for r in seen.records()}
    assert set(rows) == {"blockg-1", "allowg-2", "block-"}
    block = rows["blockg-1"]
    assert block["match_id"] == upload["match_id"] and block["content_key"] == "id:c-1"
    assert block["sha256"] == upload["signals"]["sha256"] and block["pdq"] == original_pdq
    assert (block["surface"], block["content_id"]) == ("group", "c-1")
    allow = rows["allowg-2"]
    assert (allow["match_id"], allow["md5"], allow["uploader_id"]) == (None, "0" * 32, "u")
    message = rows["block-"]
    assert message["content_key"].startswith("text-sha256:")
    assert "example.com" not in str(message)  # the message is not kept, only its digest


def test_rows_wait_in_memory_while_the_database_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seen_log, "FLUSH_SECONDS", 3600.0)  # only the flushes below
    path = tmp_path / "hg.db"
    store = Store(f"sqlite:///{path}", lock_wait=0.2)
    log = SeenLog(store.engine)
    try:
        for i in range(5):
            log.record(seen_row(datetime.now(UTC), "allow", f"id:{i}", {}, {}))
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # a long import, say
        with pytest.raises(Exception, match=r"locked|busy|another process"):
            log.flush()
        log.record(seen_row(datetime.now(UTC), "allow", "id:5", {}, {}))
        holder.execute("ROLLBACK")
        holder.close()
        assert log.flush() == 6  # nothing lost, in order
        assert [r["content_key"] for r in log.records()] == [f"id:{i}" for i in range(6)]
        assert log.dropped == 0
    finally:
        log.close()
        store.close()


def test_postgresql_keeps_a_partition_per_day(pg_url: str) -> None:
    store = Store(pg_url)
    try:
        now = datetime.now(UTC)
        for days in (0, 1, 95):
            store.seen_log.record(seen_row(now - timedelta(days=days), "allow", f"d{days}", {}, {}))
        store.seen_log.flush()
        query = text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace "
            "WHERE p.relname = 'hg_seen' AND n.nspname = current_schema() ORDER BY 1"
        )
        with store.engine.connect() as conn:
            parts = list(conn.scalars(query))
        assert parts == sorted(f"hg_seen_{(now - timedelta(days=d)):%Y%m%d}" for d in (0, 1, 95))
        assert store.seen_log.purge((now - timedelta(days=90)).date()) == 1
        with store.engine.connect() as conn:
            assert len(list(conn.scalars(query))) == 2
        assert {r["content_key"] for r in store.seen_log.records()} == {"d0", "d1"}
    finally:
        store.close()
