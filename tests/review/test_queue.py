"""The queue in the store: an item held once per content, counted and made stricter when
held again, in order; on SQLite and PostgreSQL."""

from __future__ import annotations

from hashguard.actions.model import Checked
from hashguard.policy import Verdict
from hashguard.store.store import Store


def _held(store: Store, key: str, verdict: Verdict, severity: str | None = None) -> int:
    match = {"bank": "iwf", "entry": "x", "signal_type": "pdq", "distance": 12}
    if severity:
        match["severity"] = severity
    item = Checked(
        verdict, policy_version=0, list_seq=1, content_key=key, matches=(match,), reasons=()
    )
    return store.match_log.submit(item).result(timeout=30).match_id


def test_held_again_counts_and_a_report_moves_it_up(store: Store) -> None:
    first = _held(store, "id:a", Verdict.REVIEW)
    _held(store, "id:b", Verdict.REVIEW, severity="critical")
    _held(store, "id:c", Verdict.REVIEW)
    _held(store, "id:a", Verdict.REVIEW)
    _held(store, "id:d", Verdict.BLOCK)  # blocks are not held
    assert [(i.content_key, i.sightings) for i in store.reviews.queue()] == [
        ("id:b", 1),
        ("id:a", 2),
        ("id:c", 1),
    ]  # severity first, then age
    _held(store, "id:c", Verdict.REPORT)  # held again, now to be reported
    queue = store.reviews.queue()
    assert [(i.content_key, i.verdict) for i in queue] == [
        ("id:c", "report"),
        ("id:b", "review"),
        ("id:a", "review"),
    ]
    a = next(i for i in queue if i.content_key == "id:a")
    assert a.match_id == first  # the first holding's record
    assert store.reviews.counts() == {"open": 3, "escalated": 0}
    assert store.reviews.counts(cap=2) == {"open": 2, "escalated": 0}
    assert store.reviews.facets() == {"bank": ["iwf"], "category": []}
