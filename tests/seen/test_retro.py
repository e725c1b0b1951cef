"""Retroactive matching on SQLite and PostgreSQL with real images: items seen before a list
knew them are acted on when it learns them (exact digests, and PDQ near-duplicates through
the seen log's index), once per entry even when a pass runs again; suppress banks still
cancel; and the walk-through of docs/walkthrough.md, through the real app and a webhook
receiver."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from pathlib import Path

from hashguard.actions.model import content_key
from hashguard.api.server import ServeOptions
from hashguard.engine import Engine
from hashguard.seen.retro import CURSOR, Retro
from hashguard.store.seen_log import seen_row
from hashguard.store.store import Store
from tests.actions.receiver import Receiver
from tests.api.conftest import make_service
from tests.helpers import import_text

LISTED = "pdq/reg-test-input/labelme-subset/q0122.jpg"
LATER = "pdq/reg-test-input/labelme-subset/q2821.jpg"
SECRET = "s3cret-s3cret-s3cret"


def flipped(pdq: str, bits: int) -> str:
    return f"{int(pdq, 16) ^ ((1 << bits) - 1):064x}"


def seen_upload(engine: Engine, data: bytes, **context: str) -> None:
    """What the match route writes to the seen log for an allowed upload."""
    signals = engine.match_content(data).signals
    key = content_key(context, signals)
    row = seen_row(datetime.now(UTC), "allow", key, signals, context, list_seq=engine.seq)
    engine.store.seen_log.record(row)
    engine.store.seen_log.flush()


def test_new_entries_act_on_items_seen_before(store: Store, tmp_path: Path, testdata: Path) -> None:
    store.create_bank("iwf")
    store.create_bank("benign")
    engine = Engine(store, index_dir=tmp_path / "idx")
    later = (testdata / LATER).read_bytes()
    listed = (testdata / LISTED).read_bytes()
    seen_upload(engine, later, chat_id="g1")
    seen_upload(engine, later, chat_id="g2")  # the same content again: one item
    seen_upload(engine, listed, content_id="m-9")
    retro = Retro(engine, grace=0)
    assert retro.run_once().acted == 0  # nothing listed yet
    # the list learns of the first picture by MD5, and of a near copy of the other by PDQ
    pdq = engine.match_content(later).signals["pdq"]
    import_text(store, "iwf", "signal_type,signal,id,category\n"
                f"md5,{hashlib.md5(listed).hexdigest()},x1,A\n"
                f"pdq,{flipped(pdq, 6)},x2,A\n")  # fmt: skip
    engine.refresh()
    done = retro.run_once()
    assert (done.acted, done.repeated) == (2, 0)
    records = {r["content_key"]: r for r in store.match_log.records()}
    assert set(records) == {"id:m-9", f"sha256:{hashlib.sha256(later).hexdigest()}"}
    near = records[f"sha256:{hashlib.sha256(later).hexdigest()}"]
    assert near["retroactive"] is True and near["verdict"] == "block"
    assert near["context"] == {"chat_id": "g2"}  # the latest sighting
    assert near["matches"][0]["entry"] == "x2" and near["matches"][0]["distance"] == 6
    events = [e["event"] for e in store.match_log.events()]
    assert all(e["retroactive"] for e in events) and len(events) == 2
    # run again from the start, as after a crash mid-pass: nothing acted twice
    store.seen_log.set_cursor(CURSOR, 0)
    again = Retro(engine, grace=0).run_once()
    assert (again.acted, again.repeated) == (0, 2)
    assert len(store.match_log.events()) == 2
    # a later entry of an item already acted on acts again, once: per entry
    import_text(
        store, "iwf", f"signal_type,signal,id\nsha256,{hashlib.sha256(listed).hexdigest()},x3\n"
    )
    engine.refresh()
    assert retro.run_once().acted == 1
    status = retro.status()
    assert status["lag"] == 0 and status["cursor"] == store.last_seq()


def test_a_suppress_bank_cancels_a_retroactive_match(
    store: Store, tmp_path: Path, testdata: Path
) -> None:
    store.create_bank("iwf")
    store.create_bank("benign")
    store.policies.set({"suppress_banks": ["benign"],
                        "rules": [{"name": "all", "verdict": "block"}]}, actor="t")  # fmt: skip
    engine = Engine(store, index_dir=tmp_path / "idx")
    data = (testdata / LATER).read_bytes()
    seen_upload(engine, data, content_id="c1")
    md5 = hashlib.md5(data).hexdigest()
    import_text(store, "benign", f"signal_type,signal,id\nmd5,{md5},ok\n")
    import_text(store, "iwf", f"signal_type,signal,id\nmd5,{md5},bad\n")
    engine.refresh()
    done = Retro(engine, grace=0).run_once()
    assert done.candidates >= 1 and done.acted == 0
    assert store.match_log.records() == []


def test_the_walkthrough(tmp_path: Path, db_url: str, testdata: Path) -> None:
    """docs/walkthrough.md: list an image's hash, upload it (block, webhook), upload a
    never-listed image in two chats (allowed, seen), list that one's hash (retroactively
    blocked within seconds, webhook once)."""
    receiver = Receiver([SECRET])
    store = Store(db_url)
    listed, later = (testdata / LISTED).read_bytes(), (testdata / LATER).read_bytes()
    store.create_bank("iwf")
    import_text(store, "iwf", f"signal_type,signal,id\nmd5,{hashlib.md5(listed).hexdigest()},x1\n")
    store.webhooks.add("platform", receiver.url, ("block",), SECRET, actor="t")
    options = ServeOptions(deliver_every=0.05, retro_every=0.1, webhook_allow_private=True)
    try:
        for service in make_service(store, tmp_path, options):
            files = {"file": ("a.jpg", listed, "image/jpeg")}
            blocked = service.call("POST", "/v1/match", "match", files=files).json()
            assert blocked["verdict"] == "block"
            for chat in ("g1", "g2"):
                files = {"file": ("b.jpg", later, "image/jpeg")}
                answer = service.call("POST", "/v1/match", "match", files=files,
                                      data={"chat_id": chat}).json()  # fmt: skip
                assert answer["verdict"] == "allow"
            # no pause: the list learns of B while B's sightings may still be in the seen
            # log's buffer (retroactive matching waits for them)
            md5 = hashlib.md5(later).hexdigest()
            listing = f"signal_type,signal,id\nmd5,{md5},x2\n"
            imported = service.call("POST", "/v1/banks/iwf/import", "curate", content=listing,
                                    headers={"content-type": "text/csv"})  # fmt: skip
            assert imported.status_code == 200, imported.text
            deadline = time.monotonic() + 10
            while len(receiver.applied) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)  # room for a duplicate, were there one
            events = list(receiver.applied.values())
            assert [e["retroactive"] for e in events] == [False, True]
            assert events[1]["context"] == {"chat_id": "g2"}
            assert len(receiver.requests) == 2  # each delivered once
            digest = hashlib.sha256(later).hexdigest()
            where = service.call("GET", f"/v1/items/sha256:{digest}/spread", "admin").json()
            assert [c["chat_id"] for c in where["chats"]] == ["g1", "g2"]
            assert where["found_by"] == {"sha256": 2}
    finally:
        store.close()
        receiver.close()
