"""Retention: kept verdicts and outbox events are purged when their time is up, never an
event still to be delivered, and purging while checks arrive loses none of the new ones.
On SQLite, PostgreSQL and in memory, with a stepped clock."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import httpx

from hashguard.actions.deliver import Deliverer
from hashguard.actions.model import Checked, Logged
from hashguard.policy import Verdict
from hashguard.runtime.retention import Retention
from hashguard.store.memory import MemoryStore
from hashguard.store.store import Store
from tests.actions.receiver import Receiver

SECRET = "s3cret-s3cret-s3cret"
RETENTION = Retention(match_log_days=365, outbox_days=30, seen_days=90)


def verdict(store: object, content_id: str, kind: Verdict = Verdict.BLOCK) -> Logged:
    item = Checked(kind, policy_version=0, list_seq=1, content_key=f"id:{content_id}",
                   matches=(), reasons=(), context={"content_id": content_id})  # fmt: skip
    return store.match_log.submit(item).result(timeout=30)  # type: ignore[attr-defined, no-any-return]


def test_outbox_events_go_when_done_and_verdicts_after_a_year(store: Store) -> None:
    receiver = Receiver([SECRET])
    try:
        store.webhooks.add("h", receiver.url, ("block",), SECRET, actor="t")
        delivered = verdict(store, "a")
        unwanted = verdict(store, "b", Verdict.REVIEW)  # the endpoint takes blocks only
        Deliverer(store.webhooks, allow_private=True, client=httpx.Client()).run_once()
        receiver.plan = ["500"]
        pending = verdict(store, "c")
        Deliverer(store.webhooks, allow_private=True, client=httpx.Client()).run_once()
        now = datetime.now(UTC)
        assert RETENTION.purge(store, now + timedelta(days=29)) == {
            "match_log": 0,
            "seen_log": 0,
            "outbox": 0,
            "kept": 0,
            "evidence": 0,
        }
        assert RETENTION.purge(store, now + timedelta(days=31)) == {
            "match_log": 0,
            "seen_log": 0,
            "outbox": 2,
            "kept": 0,
            "evidence": 0,
        }
        [left] = store.match_log.events()
        assert left["event"]["event_id"] == pending.event_id  # still to be delivered
        assert [d["status"] for d in store.webhooks.deliveries()] == ["pending"]
        gone = RETENTION.purge(store, now + timedelta(days=366))
        assert gone == {
            "match_log": 3,
            "seen_log": 0,
            "outbox": 0,
            "kept": 0,
            "evidence": 0,
        }
        assert store.match_log.records() == []
        assert {delivered.event_id, unwanted.event_id}.isdisjoint(
            e["event"]["event_id"] for e in store.match_log.events()
        )
        # and the pending one is still delivered once its endpoint recovers
        d = Deliverer(store.webhooks, allow_private=True, client=httpx.Client(),
                      clock=lambda: time.time() + 3600)  # fmt: skip
        assert d.run_once().delivered == 1
        assert RETENTION.purge(store, now + timedelta(days=31))["outbox"] == 1
    finally:
        receiver.close()


def test_the_in_memory_log_keeps_the_same_rules() -> None:
    store = MemoryStore()
    first = verdict(store, "a")
    now = datetime.now(UTC)
    assert RETENTION.purge(store, now + timedelta(days=364)) == {"match_log": 0, "seen_log": 0}
    assert RETENTION.purge(store, now + timedelta(days=366)) == {"match_log": 1, "seen_log": 0}
    assert verdict(store, "b").match_id > first.match_id  # ids are not reused


def test_purging_while_checks_arrive_loses_none_of_the_new_ones(store: Store) -> None:
    old = [verdict(store, f"old{i}").match_id for i in range(50)]
    time.sleep(1.1)  # SQLite's clock has whole seconds
    cutoff = datetime.now(UTC)
    time.sleep(1.1)
    new: list[int] = []
    errors: list[BaseException] = []

    def checks() -> None:
        try:
            new.extend(verdict(store, f"new{i}").match_id for i in range(100))
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=checks)
    thread.start()
    purged = 0
    while thread.is_alive():
        purged += store.match_log.purge(cutoff, batch=7)
    thread.join()
    purged += store.match_log.purge(cutoff, batch=7)
    assert errors == [] and purged == len(old)
    assert [r["id"] for r in store.match_log.records()] == new
