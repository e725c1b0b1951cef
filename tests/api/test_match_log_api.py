"""Kept verdicts: a non-allow verdict is in the match log, with its outbox event, before the
API answers it; a plain allow writes nothing; a verdict that cannot be recorded is not
answered as one. On SQLite and PostgreSQL, through the real app."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from hashguard.store.store import Store
from tests.api.conftest import ORIGINAL, Service, make_service
from tests.helpers import import_text


def flipped(pdq: str, bits: int) -> str:
    return f"{int(pdq, 16) ^ ((1 << bits) - 1):064x}"


def test_a_block_is_recorded_with_its_event_before_it_is_answered(
    service: Service, testdata: Path
) -> None:
    log = service.engine.store.match_log
    upload = service.call(
        "POST", "/v1/match", "match",
        files={"file": ("a.jpg", (testdata / ORIGINAL).read_bytes(), "image/jpeg")},
        data={"content_id": "c-1", "chat_id": "g-9", "uploader_id": "u-3", "surface": "group"},
    )  # fmt: skip
    body = upload.json()
    assert body["verdict"] == "block"
    [record] = log.records()
    assert record["id"] == body["match_id"]
    assert record["verdict"] == "block" and record["content_key"] == "id:c-1"
    assert record["context"] == {
        "content_id": "c-1", "chat_id": "g-9", "uploader_id": "u-3", "surface": "group",
    }  # fmt: skip
    assert record["signals"]["sha256"] == body["signals"]["sha256"]  # hashes, never content
    assert record["matches"] == [
        {"bank": "iwf", "entry": "x1", "signal_type": "pdq", "distance": 0, "category": "A"}
    ]  # the whole match (with what orders the review queue), whatever the key was shown
    [event] = log.events()
    payload = event["event"]
    assert payload["event_id"] == body["event_id"]
    assert (payload["type"], payload["match_id"]) == ("verdict.block", body["match_id"])
    assert payload["reasons"][0]["rule"] == "pdq-close"
    assert payload["context"]["chat_id"] == "g-9"
    assert payload["list_seq"] == body["list_seq"] and payload["policy_version"] == 0


def test_allows_write_nothing_and_shadow_verdicts_are_recorded_without_an_event(
    service: Service, original_pdq: str
) -> None:
    log = service.engine.store.match_log
    miss = {"signals": [{"type": "pdq", "value": flipped(original_pdq, 64)}]}
    answer = service.call("POST", "/v1/match", "match", json=miss).json()
    assert answer["verdict"] == "allow" and "match_id" not in answer
    assert log.records() == []
    service.call(
        "PUT", "/v1/policy", "admin", headers={"content-type": "application/toml"},
        content='[[rules]]\nname = "trial"\nverdict = "block"\nmode = "shadow"\n',
    )  # fmt: skip
    hit = {"signals": [{"type": "pdq", "value": original_pdq}], "content_id": "s-1"}
    shadow = service.call("POST", "/v1/match", "match", json=hit).json()
    assert shadow["verdict"] == "allow" and shadow["shadow"]["verdict"] == "block"
    assert "event_id" not in shadow
    [record] = log.records()
    assert (record["id"], record["verdict"], record["shadow"]) == (
        shadow["match_id"],
        "allow",
        "block",
    )
    assert log.events() == []


def test_batches_and_text_keep_their_verdicts_too(
    service: Service, original_pdq: str, testdata: Path
) -> None:
    import_text(service.engine.store, "iwf", "signal_type,signal,id\nurl,example.com/bad,u1\n")
    service.engine.refresh()
    image = base64.b64encode((testdata / ORIGINAL).read_bytes()).decode()
    items = [
        {"content": image, "content_id": "b-1"},
        {"signals": [{"type": "pdq", "value": flipped(original_pdq, 64)}]},
        {"text": "see https://example.com/bad now", "chat_id": "g-2"},
        {"signals": [{"type": "md5", "value": "nothex"}]},
    ]
    results = service.call("POST", "/v1/match/batch", "match", json={"items": items}).json()[
        "results"
    ]
    assert [r.get("verdict") for r in results] == ["block", "allow", "block", None]
    assert "match_id" not in results[1] and "error" in results[3]
    records = {r["id"]: r for r in service.engine.store.match_log.records()}
    assert sorted(records) == sorted([results[0]["match_id"], results[2]["match_id"]])
    text_record = records[results[2]["match_id"]]
    assert text_record["content_key"].startswith("text-sha256:")  # never the message
    assert "example.com" not in str(text_record["signals"]) + text_record["content_key"]
    alone = service.call(
        "POST", "/v1/match/text", "match", json={"text": "https://example.com/bad"}
    ).json()
    assert alone["verdict"] == "block" and alone["event_id"]
    assert len(service.engine.store.match_log.events()) == 3


@pytest.fixture
def impatient(tmp_path: Path, testdata: Path, original_pdq: str) -> Iterator[tuple[Service, Path]]:
    """SQLite whose writers wait 0.3 s for the write lock, so another holding it fails them."""
    path = tmp_path / "hg.db"
    store = Store(f"sqlite:///{path}", lock_wait=0.3)
    store.create_bank("iwf")
    import_text(store, "iwf", f"signal_type,signal,id\npdq,{original_pdq},x1\n")
    for service in make_service(store, tmp_path):
        yield service, path
    store.close()


def test_a_verdict_that_cannot_be_recorded_is_not_answered(
    impatient: tuple[Service, Path], original_pdq: str
) -> None:
    service, path = impatient
    body = {"signals": [{"type": "pdq", "value": original_pdq}]}
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, say an import
    try:
        refused = service.call("POST", "/v1/match", "match", json=body)
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        assert refused.json()["error"]["type"] == "NotReady"
        batch = service.call("POST", "/v1/match/batch", "match", json={"items": [body]})
        assert batch.json()["results"][0]["error"]["type"] == "NotReady"
        miss = {"signals": [{"type": "md5", "value": "0" * 32}]}
        assert service.call("POST", "/v1/match", "match", json=miss).json()["verdict"] == "allow"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    ok = service.call("POST", "/v1/match", "match", json=body).json()
    assert ok["verdict"] == "block" and ok["match_id"] == 1
