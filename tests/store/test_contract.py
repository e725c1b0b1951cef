"""The repository contract: what every store keeps, run on SQLite, PostgreSQL and in memory
(the ``repos`` fixture), and the in-memory importer held to the SQL one on random lists.

tests/store/test_import.py runs on all three too; the tests here cover the rest of the
interfaces: bank settings and deletion, single entries, the change log, keys, sources,
policies, the match log and outbox, the audit log.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hashguard.actions.model import Checked
from hashguard.errors import Conflict, InvalidValue, ListRejected, NotFound, UnknownSignalType
from hashguard.lists.rows import ListRow, entry_rows
from hashguard.policy import Verdict
from hashguard.signals.registry import default_registry
from hashguard.store.memory import MemoryStore
from hashguard.store.repositories import Repositories
from hashguard.store.seen_log import seen_row
from hashguard.store.store import Store
from tests.helpers import import_text

MD5 = "0123456789abcdef0123456789abcdef"
MD5_B = "ffffffffffffffffffffffffffffffff"
PDQ = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"
TWO = f"signal_type,signal,id,category\nmd5,{MD5},a,X\npdq,{PDQ},a,X\nmd5,{MD5_B},b,Y\n"


def _log(repos: Repositories, after: int = 0) -> list[tuple[Any, ...]]:
    return [(c.kind, c.signal_type, c.value) for c in repos.changes_after(after)]


def test_thresholds_are_per_bank_and_signal_type(repos: Repositories) -> None:
    bank = repos.create_bank("iwf", thresholds={"PDQ": 20}, match_fields=["note"])
    assert (bank.thresholds, bank.match_fields, bank.enabled) == ({"pdq": 20}, ("note",), True)
    assert repos.bank("iwf") == bank and bank.id > 0
    with pytest.raises(InvalidValue, match="two different pdq thresholds"):
        repos.update_bank("iwf", thresholds={"pdq": 10, "PDQ": 11})
    with pytest.raises(InvalidValue, match="take no threshold"):
        repos.update_bank("iwf", thresholds={"md5": 3})
    with pytest.raises(UnknownSignalType):
        repos.create_bank("other", thresholds={"nope": 3})
    assert [b.name for b in repos.banks()] == ["iwf"]  # the refused ones made nothing
    assert repos.update_bank("iwf", thresholds={"pdq": None}).thresholds == {}
    seq = repos.last_seq()
    assert repos.update_bank("iwf") == repos.bank("iwf")  # nothing asked, nothing logged
    assert repos.last_seq() == seq
    assert [r["action"] for r in repos.audit.read()] == ["bank.create", "bank.update"]


def test_deleting_a_bank_retracts_its_entries_and_frees_its_name(repos: Repositories) -> None:
    old = repos.create_bank("iwf")
    import_text(repos, "iwf", TWO)
    pks = {c.entry_pk for c in repos.changes_after(0) if c.entry_pk}
    seq = repos.last_seq()
    assert repos.delete_bank("iwf", actor="cli:alice") == 2
    assert [c.kind for c in repos.changes_after(seq)] == ["retract"] * 3 + ["bank"]
    assert {c.bank_id for c in repos.changes_after(seq)} == {old.id}
    assert repos.banks() == [] and repos.bank_counts() == {}
    with pytest.raises(NotFound, match="no bank named 'iwf'"):
        repos.bank("iwf")
    # what it listed stays answerable, under its retired name
    gone = repos.entries([pk for pk in pks if pk is not None])
    assert {e.bank for e in gone.values()} == {f"#{old.id}"}
    assert {e.status for e in gone.values()} == {"retracted"}
    again = repos.create_bank("iwf")
    assert again.id != old.id and list(repos.export_rows("iwf")) == []
    last = repos.audit.read()[-2]
    assert (last["actor"], last["action"], last["detail"]) == (
        "cli:alice", "bank.delete", {"entries_retracted": 2},
    )  # fmt: skip


def test_one_entry_at_a_time(repos: Repositories) -> None:
    repos.create_bank("iwf")
    rows, errors = entry_rows("e1", [("md5", MD5, None), ("pdq", PDQ, 40)], {}, default_registry())
    assert errors == []
    report, entry = repos.add_entry("iwf", rows, actor="api:k")
    assert (report.entries_added, report.signals_added, report.low_quality) == (1, 2, 1)
    assert entry == repos.entry("iwf", "e1") and entry.status == "active"
    assert [(s.type, s.quality) for s in entry.signals] == [("md5", None), ("pdq", 40)]
    again, _ = repos.submit_entry("iwf", rows).result()
    assert (again.entries_added, again.signals_added, again.first_seq) == (0, 0, None)
    retracted = repos.retract_entry("iwf", "e1")
    assert retracted.status == "retracted" and retracted.signals == entry.signals
    assert repos.retract_entry("iwf", "e1") == retracted  # once is enough: nothing logged
    assert _log(repos)[-2:] == [("retract", "md5", MD5), ("retract", "pdq", PDQ)]
    with pytest.raises(NotFound, match="has no entry 'e2'"):
        repos.entry("iwf", "e2")
    with pytest.raises(InvalidValue, match="NUL"):
        repos.entry("iwf", "e\x00")
    with pytest.raises(NotFound, match="no bank"):
        repos.submit_entry("nope", rows).result()
    actions = [r["action"] for r in repos.audit.read()]
    assert actions == ["bank.create", "entry.add", "entry.add", "entry.retract"]
    assert repos.entries([entry.pk], signals=False)[entry.pk].signals == ()


def test_the_change_log(repos: Repositories) -> None:
    bank = repos.create_bank("iwf")
    woken: list[int] = []
    written: list[int] = []
    repos.after_write(lambda: written.append(1))
    wakeup = repos.listen(lambda: woken.append(1))
    import_text(repos, "iwf", TWO)
    changes = repos.changes_after(0)
    assert [c.kind for c in changes] == ["bank", "add", "add", "add"]
    assert changes[1].bank_id == bank.id and changes[1].signal_type == "md5"
    assert repos.changes_after(changes[1].seq, limit=2) == changes[2:4]
    assert repos.count_changes_after(0, 10) == 4 and repos.count_changes_after(0, 3) == 3
    assert repos.count_changes_after(repos.last_seq(), 10) == 0
    seq, rows = repos.active_signals(["md5"])
    assert seq == repos.last_seq()
    assert sorted((r[0], r[1], r[3]) for r in rows) == [
        ("md5", MD5, bank.id), ("md5", MD5_B, bank.id),
    ]  # fmt: skip
    assert written  # the writes made here are announced here
    if wakeup is not None:  # a store that can announce changes did so
        deadline = time.monotonic() + 5
        while wakeup.listening and not woken and time.monotonic() < deadline:
            time.sleep(0.05)
        assert woken
        wakeup.close()
    assert len(repos.store_id) == 32


def test_a_rejected_list_changes_nothing(repos: Repositories) -> None:
    repos.create_bank("iwf")
    import_text(repos, "iwf", TWO)
    before = (_log(repos), list(repos.export_rows("iwf")), len(repos.audit.read()))
    with pytest.raises(ListRejected) as info:
        import_text(repos, "iwf", f"signal_type,signal,id\nmd5,{MD5_B},c\nmd5,xyz,d\n")
    assert [e.line for e in info.value.errors] == [3]
    assert (_log(repos), list(repos.export_rows("iwf")), len(repos.audit.read())) == before
    with pytest.raises(NotFound):
        import_text(repos, "nope", TWO)


def test_keys(repos: Repositories) -> None:
    key, secret = repos.keys.create(None, ["match", "curate"], rate_limit=5, actor="cli")
    assert key.name == f"match-curate-{key.prefix}" and key.active and key.rate_limit == 5
    assert secret.startswith(f"hg_{key.prefix}_") and secret not in str(repos.keys.list())
    assert repos.keys.find(secret) == key == repos.keys.get(key.name)
    assert repos.keys.find(secret + "x") is None
    with pytest.raises(Conflict):
        repos.keys.create(key.name, ["match"], actor="cli")
    with pytest.raises(InvalidValue, match="unknown scope"):
        repos.keys.create("k2", ["everything"], actor="cli")
    revoked = repos.keys.revoke(key.name, actor="cli")
    assert not revoked.active and repos.keys.revoke(key.name, actor="cli") == revoked
    assert list(repos.keys.by_hash().values()) == [revoked]
    with pytest.raises(NotFound, match="no API key"):
        repos.keys.revoke("nope", actor="cli")
    assert [r["action"] for r in repos.audit.read()] == ["key.create", "key.revoke"]


def test_sources(repos: Repositories) -> None:
    repos.create_bank("iwf")
    made = repos.sources.add("up", "feed", "iwf", "https://x.test/", {"b": 1, "a": 2}, actor="c")
    assert (made.settings, made.checkpoint, made.last_attempt_at) == ({"a": 2, "b": 1}, None, None)
    with pytest.raises(Conflict):
        repos.sources.add("up", "feed", "iwf", "https://x.test/", {}, actor="c")
    with pytest.raises(InvalidValue, match="unknown source kind"):
        repos.sources.add("up2", "gopher", "iwf", "gopher://x/", {}, actor="c")
    # a checkpoint is saved with the rows it follows, and forgotten on request
    import_text_checkpoint(repos, '{"seq": 3}')
    assert repos.sources.get("up").checkpoint == '{"seq": 3}'
    reset = repos.sources.reset_checkpoint("up", actor="c")
    assert reset.checkpoint is None
    repos.sources.record_outcome("up", "down")
    failed = repos.sources.get("up")
    assert failed.last_error == "down" and failed.last_attempt_at and not failed.last_success_at
    repos.sources.record_outcome("up", None)
    assert repos.sources.get("up").last_success_at is not None
    assert [s.name for s in repos.sources.list()] == ["up"]
    repos.sources.remove("up", actor="c")
    with pytest.raises(NotFound, match="no source named 'up'"):
        repos.sources.remove("up", actor="c")
    actions = [r["action"] for r in repos.audit.read()]
    assert actions == ["bank.create", "source.add", "bank.import", "source.reset", "source.remove"]
    assert repos.audit.read()[3]["detail"] == {"checkpoint": {"seq": 3}}


def import_text_checkpoint(repos: Repositories, checkpoint: str) -> None:
    rows = [ListRow(1, "add", "a", "md5", MD5)]
    repos.import_rows("iwf", rows, [], "feed up", checkpoint=("up", checkpoint))


def test_one_fetcher_at_a_time(repos: Repositories) -> None:
    assert repos.sources.claim("a", 0.5)
    assert not repos.sources.claim("b", 0.5)
    assert repos.sources.claim("a", 0.5)  # renewed by its holder
    time.sleep(0.6)
    assert repos.sources.claim("b", 0.5)
    assert not repos.sources.claim("a", 0.5)


def test_the_audit_log(repos: Repositories) -> None:
    repos.audit.append("x" * 300, "probe.alarm", None, {"when": Path("/p"), "n": 1})
    repos.create_bank("iwf", actor="cli:bob")
    first, second = repos.audit.read()
    assert (first["actor"], first["target"]) == ("x" * 128, None)
    assert first["detail"] == {"when": "/p", "n": 1}  # as JSON keeps it
    assert second["id"] > first["id"] and second["target"] == "iwf"
    assert repos.audit.read(after=first["id"]) == [second]
    assert repos.audit.read(limit=1) == [first]
    assert repos.audit.latest(1) == [second] and repos.audit.latest() == [second, first]


def test_policies_are_versioned_and_logged(repos: Repositories) -> None:
    assert repos.policies.current() is None and repos.policies.history() == []
    before = repos.last_seq()
    doc = {"rules": [{"name": "a", "verdict": "block", "banks": ["iwf"]}]}
    first = repos.policies.set(doc, actor="cli:bob")
    doc["rules"][0]["verdict"] = "review"  # the store keeps its own copy
    second = repos.policies.set({"rules": []}, actor="x" * 300)
    assert (first.version, second.version) == (1, 2)
    assert repos.policies.current() == second
    assert repos.policies.history() == [second, first]
    assert repos.policies.history(limit=1) == [second]
    assert first.document == {"rules": [{"name": "a", "verdict": "block", "banks": ["iwf"]}]}
    assert (first.actor, second.actor) == ("cli:bob", "x" * 128)
    assert first.created_at <= second.created_at
    # followers learn of each from the change log; not of a bank
    changes = repos.changes_after(before)
    assert [(c.kind, c.bank_id, c.entry_pk) for c in changes] == [("policy", 0, None)] * 2
    audited = [(a["action"], a["target"]) for a in repos.audit.read()]
    assert audited == [("policy.set", "v1"), ("policy.set", "v2")]


def test_the_match_log_and_its_outbox(repos: Repositories) -> None:
    block = Checked(
        Verdict.BLOCK, policy_version=2, list_seq=41, content_key="id:c1",
        matches=({"bank": "iwf", "entry": "x1", "signal_type": "pdq", "distance": 3},),
        reasons=({"rule": "r", "verdict": "block", "bank": "iwf", "entry": "x1",
                  "signal_type": "pdq", "distance": 3},),
        signals={"pdq": PDQ}, context={"content_id": "c1", "chat_id": "g1", "surface": "group"},
    )  # fmt: skip
    shadow_only = replace(block, verdict=Verdict.ALLOW, shadow=Verdict.BLOCK, reasons=())
    first = repos.match_log.submit(block).result(timeout=30)
    second = repos.match_log.submit(shadow_only).result(timeout=30)
    assert first.event_id == block.event_id and second.event_id is None  # recorded, not acted
    assert second.match_id > first.match_id
    records = repos.match_log.records()
    assert [(r["id"], r["verdict"], r["shadow"]) for r in records] == [
        (first.match_id, "block", None), (second.match_id, "allow", "block"),
    ]  # fmt: skip
    kept = records[0]
    assert kept["context"] == {"content_id": "c1", "chat_id": "g1", "surface": "group"}
    assert (kept["matches"], kept["signals"]) == ([dict(block.matches[0])], {"pdq": PDQ})
    assert (kept["policy_version"], kept["list_seq"], kept["retroactive"]) == (2, 41, False)
    assert repos.match_log.records(after=first.match_id) == records[1:]
    [event] = repos.match_log.events()
    payload = event["event"]
    assert payload["event_id"] == block.event_id and payload["type"] == "verdict.block"
    assert payload["match_id"] == first.match_id and payload["reasons"] == list(block.reasons)
    assert payload["context"]["content_id"] == "c1" and payload["list_seq"] == 41
    assert repos.match_log.events(after=event["id"]) == []


def test_the_seen_log(repos: Repositories) -> None:
    now = datetime.now(UTC)
    old = now - timedelta(days=100)
    upload = {"md5": MD5, "sha256": "ab" * 32, "pdq": PDQ, "pdq_quality": 90}
    repos.seen_log.record(seen_row(now, "allow", "id:c1", upload, {"content_id": "c1"}))
    repos.seen_log.record(seen_row(now, "block", "id:c2", {"md5": MD5_B}, {"chat_id": "g"}, 7))
    repos.seen_log.record(seen_row(old, "allow", "id:c3", {}, {"surface": "group"}))
    repos.seen_log.flush()
    rows = repos.seen_log.records()
    assert [(r["content_key"], r["verdict"], r["match_id"]) for r in rows] == [
        ("id:c3", "allow", None), ("id:c1", "allow", None), ("id:c2", "block", 7),
    ]  # fmt: skip
    [first] = repos.seen_log.records(content_key="id:c1")
    assert (first["md5"], first["sha256"], first["pdq"]) == (MD5, "ab" * 32, PDQ)
    assert first["signals"] == upload and first["content_id"] == "c1"
    assert first["day"] == now.date().isoformat()
    assert repos.seen_log.purge((now - timedelta(days=90)).date()) == 1
    assert [r["content_key"] for r in repos.seen_log.records()] == ["id:c1", "id:c2"]
    assert repos.seen_log.purge((now - timedelta(days=90)).date()) == 0


# The in-memory importer against the SQL one, on random lists.

VALUES = {"md5": [f"{i:032x}" for i in range(6)], "pdq": [f"{i:064x}" for i in range(1, 4)]}


def _random_list(rng: random.Random, size: int) -> list[ListRow]:
    rows = []
    for line in range(1, size + 1):
        signal_type = rng.choice(["md5", "pdq"])
        value = rng.choice(VALUES[signal_type])
        entry_id = rng.choice([None, "e1", "e2", "e3", "e4"])
        if rng.random() < 0.25:  # a retraction, by id or by signal
            if entry_id is not None and rng.random() < 0.5:
                rows.append(ListRow(line, "retract", entry_id, None, None))
            else:
                rows.append(ListRow(line, "retract", entry_id, signal_type, value))
            continue
        extra = rng.choice([None, '{"url": "u1"}', '{"url": "u2"}'])
        quality = rng.choice([None, 30, 80]) if signal_type == "pdq" else None
        rows.append(
            ListRow(
                line, "add", entry_id, signal_type, value, rng.choice([None, "A", "B"]),
                rng.choice([None, "1"]), None, quality, extra,
            )
        )  # fmt: skip
    return rows


def _picture(repos: Repositories) -> tuple[Any, ...]:
    """Everything observable, with database ids replaced by what they name."""
    changes = repos.changes_after(0)
    pks = [c.entry_pk for c in changes if c.entry_pk is not None]
    entries = repos.entries(pks)
    names = {b.id: b.name for b in repos.banks()}
    log = [
        (c.kind, names[c.bank_id], entries[c.entry_pk].id if c.entry_pk else None,
         c.signal_type, c.value)
        for c in changes
    ]  # fmt: skip
    exported = {b: list(repos.export_rows(b, include_retracted=True)) for b in ("a", "b")}
    return log, exported, repos.bank_counts()


@pytest.fixture
def sql(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    yield s
    s.close()


@pytest.mark.parametrize("seed", range(12))
def test_the_memory_importer_agrees_with_sql(sql: Store, seed: int) -> None:
    rng = random.Random(seed)
    memory = MemoryStore()
    for repos in (sql, memory):
        repos.create_bank("a")
        repos.create_bank("b")
    for _ in range(6):
        bank, rows = rng.choice("ab"), _random_list(rng, rng.randint(1, 14))
        shuffled = rng.sample(rows, len(rows))  # readers give lines in order; need not
        reports = [r.import_rows(bank, shuffled, [], "random") for r in (sql, memory)]
        if seed % 3 == 0:  # single entries too, through the row path
            key = rng.choice(["e1", "e2", "e9"])
            rows = [ListRow(1, "add", key, "md5", rng.choice(VALUES["md5"]), "C")]
            reports += [r.add_entry(bank, rows)[0] for r in (sql, memory)]
        for mine, theirs in zip(reports[::2], reports[1::2], strict=True):
            assert mine == theirs
    assert _picture(sql) == _picture(memory)
    memory.close()
