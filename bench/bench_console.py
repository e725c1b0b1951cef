"""The review queue at scale: claiming, listing and deciding with many held items, and what
holding an item adds to writing its verdict.

1. ``--items`` undecided items (default 1,000,000) are put in the queue table directly,
   with mixed priorities, banks and categories;
2. claims: ``--claims`` calls of ``claim_next`` by 4 reviewers in turn (each claim is a
   read of the queue's head and a conditional update): p50 and p90;
3. the queue page's read (the first 100 in order, unfiltered and filtered by bank and
   category), and the queue's size every page's header shows (counted up to 10,000): p50;
4. decisions (escalate: status, history, audit and outbox event in one transaction): p50;
5. the match path's cost of holding: ``--verdicts`` review verdicts (match-log row, outbox
   event and queue item) against as many block verdicts (no queue item), written through the
   match log's group-commit writer one at a time: µs each, and the ratio.

    flock /tmp/hashguard-bench.lock python bench/bench_console.py [--pg postgresql://postgres@127.0.0.1:5432/test]
        [--items 1000000] [--claims 400] [--verdicts 2000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from _harness import machine, pg_schema
from sqlalchemy import insert, text

from hashguard.actions.model import Checked
from hashguard.policy import Verdict
from hashguard.store import tables as t
from hashguard.store.database import begin_write
from hashguard.store.store import Store

BATCH = 20_000
BANKS = ("iwf", "ncmec", "industry", "confirmed")
CATEGORIES = ("A1", "A2", "B1", "B2", None)


def _fill(store: Store, n: int) -> float:
    rng = random.Random(7)
    started = time.perf_counter()
    for start in range(0, n, BATCH):
        rows = [{
            "match_id": i + 1, "content_key": f"id:{i}",
            "verdict": rng.choice(("review", "report")),
            "priority": rng.choice((0, 1, 2, 4, 10, 11, 12, 14)), "bank": rng.choice(BANKS),
            "category": rng.choice(CATEGORIES), "sightings": 1, "status": "open",
        } for i in range(start, min(n, start + BATCH))]  # fmt: skip
        with begin_write(store.engine) as conn:
            conn.execute(insert(t.reviews), rows)
    if store.engine.dialect.name == "postgresql":  # as autovacuum would after such a load
        with store.engine.begin() as conn:
            conn.execute(text("ANALYZE hg_reviews"))
    return time.perf_counter() - started


def _ms(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    return {"p50_ms": round(statistics.median(s) * 1e3, 3),
            "p90_ms": round(s[int(len(s) * 0.9)] * 1e3, 3)}  # fmt: skip


def _timed(fn: Any, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _verdicts(store: Store, kind: Verdict, n: int, tag: str) -> float:
    """µs per verdict, written one after the other (each waits for its commit)."""
    t0 = time.perf_counter()
    for i in range(n):
        item = Checked(kind, policy_version=0, list_seq=1, content_key=f"id:{tag}-{i}",
                       matches=({"bank": "iwf", "entry": "x", "signal_type": "pdq",
                                 "distance": 12, "category": "A1"},), reasons=())  # fmt: skip
        store.match_log.submit(item).result(timeout=30)
    return (time.perf_counter() - t0) / n * 1e6


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    store = Store(url)
    try:
        filled = _fill(store, args.items)
        reviews = store.reviews
        now = time.time()
        users = [1, 2, 3, 4]
        turn = iter(range(10**9))
        claims = _timed(lambda: reviews.claim_next(users[next(turn) % 4], now=now + next(turn),
                                                   seconds=900), args.claims)  # fmt: skip
        page = _timed(lambda: reviews.queue(limit=100), 50)
        counted = _timed(reviews.counts, 50)  # every page's header
        faceted = _timed(reviews.facets, 20)  # the queue's and the item page's choices
        filtered = _timed(lambda: reviews.queue(bank="ncmec", category="B1", limit=100), 50)
        items = reviews.queue(limit=args.claims)
        it = iter(items)
        decide = _timed(lambda: reviews.decide(next(it), 1, actor="user:bench", action="escalate",
                                               status="escalated", now=now, any_claim=True),
                        min(len(items), args.claims))  # fmt: skip
        _verdicts(store, Verdict.BLOCK, 200, "warm")
        block = _verdicts(store, Verdict.BLOCK, args.verdicts, "b")
        review = _verdicts(store, Verdict.REVIEW, args.verdicts, "r")
        return {
            "items": args.items, "fill_s": round(filled, 1),
            "claim_next": _ms(claims), "queue_page": _ms(page), "queue_counts": _ms(counted),
            "facets": _ms(faceted),
            "queue_page_filtered": _ms(filtered),
            "decide": _ms(decide),
            "verdict_us": {"block": round(block), "review_held": round(review),
                           "ratio": round(review / block, 2)},
        }  # fmt: skip
    finally:
        store.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--pg", help="also on this PostgreSQL (a schema of its own, dropped after)")
    p.add_argument("--items", type=int, default=1_000_000)
    p.add_argument("--claims", type=int, default=400)
    p.add_argument("--verdicts", type=int, default=2000)
    args = p.parse_args()
    out: dict[str, Any] = {"machine": machine(("sqlalchemy",))}
    with tempfile.TemporaryDirectory() as tmp:
        out["sqlite"] = run(f"sqlite:///{Path(tmp) / 'bench.db'}", args)
    if args.pg:
        with ExitStack() as stack:
            out["postgresql"] = run(stack.enter_context(pg_schema(args.pg)), args)
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
