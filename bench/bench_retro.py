"""Retroactive matching and spread tracing against a large seen log (issue 12): how long a
pass takes to match new entries against ``--seen`` seen items, and spread queries' latency.
No peer does either (HMA matches only what it is sent; Coop's retroactive matching is
disabled in its code), so the figures are held to the issue's goals: 100,000 new PDQ
entries against 10M seen items in ≤ 60 s, ≥ 1M new exact-hash entries a minute, spread
p50 ≤ 50 ms.

The seen log is filled with random items (PDQ, MD5, SHA-256, a content id, one of 1,000
chats) through the seen log's own writer. Then ``--pdq`` new PDQ entries are imported, 1% of
them within 8 bits of a seen item's PDQ (they must act), and ``--md5`` new MD5 entries, 1%
equal to a seen item's (they must act); one pass of :class:`~hashguard.seen.retro.Retro`
follows, timed in three parts: building the seen log's PDQ index, the PDQ entries, the MD5
entries. Then ``--queries`` spread queries for random seen content ids.

    flock /tmp/hashguard-bench.lock python bench/bench_retro.py [--pg postgresql://postgres@127.0.0.1:5432/test]
        [--seen 1000000] [--pdq 100000] [--md5 1000000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _harness import machine, pg_schema

from hashguard.engine import Engine
from hashguard.lists.rows import ListRow
from hashguard.seen.pdq_index import SeenPdqIndex
from hashguard.seen.retro import Retro
from hashguard.seen.spread import spread
from hashguard.store.seen_log import seen_row
from hashguard.store.store import Store

FILL_BATCH = 50_000


def fill_seen(store: Store, n: int, rng: random.Random) -> tuple[list[str], list[str]]:
    """``n`` random seen items; returns a sample of their PDQ and MD5 hashes."""
    pdqs, md5s = [], []
    now = datetime.now(UTC)
    for start in range(0, n, FILL_BATCH):
        rows = []
        for i in range(start, min(n, start + FILL_BATCH)):
            pdq, md5 = f"{rng.getrandbits(256):064x}", f"{rng.getrandbits(128):032x}"
            signals = {"md5": md5, "sha256": f"{rng.getrandbits(256):064x}", "pdq": pdq}
            context = {"content_id": f"c{i}", "chat_id": f"g{rng.randrange(1000)}"}
            rows.append(seen_row(now, "allow", f"id:c{i}", signals, context))
            if i % 100 == 0:
                pdqs.append(pdq)
                md5s.append(md5)
        store.seen_log._write(rows)  # the writer thread's own path, without its timer
    return pdqs, md5s


def near(pdq: str, rng: random.Random, bits: int = 8) -> str:
    value = int(pdq, 16)
    for bit in rng.sample(range(256), bits):
        value ^= 1 << bit
    return f"{value:064x}"


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(5)
    store = Store(url)
    store.create_bank("b")
    started = time.perf_counter()
    pdqs, md5s = fill_seen(store, args.seen, rng)
    filled = time.perf_counter() - started
    engine = Engine(store, index_dir=Path(tempfile.mkdtemp()))
    retro = Retro(engine, grace=0)
    retro.run_once()  # the cursor to the end of the log: nothing listed yet
    out: dict[str, Any] = {"seen": args.seen, "fill_s": round(filled, 1)}
    started = time.perf_counter()
    retro._pdq.refresh()
    out["pdq_index_build_s"] = round(time.perf_counter() - started, 1)
    for kind, count, make in (
        ("pdq", args.pdq, lambda: near(rng.choice(pdqs), rng)),
        ("md5", args.md5, lambda: rng.choice(md5s)),
    ):
        acting = count // 100
        values = [make() for _ in range(acting)]
        bits = 256 if kind == "pdq" else 128
        values += [f"{rng.getrandbits(bits):0{bits // 4}x}" for _ in range(count - acting)]
        rows = (ListRow(i + 1, "add", f"{kind}-{i}", kind, v) for i, v in enumerate(values))
        store.import_rows("b", rows, [], "bench")
        engine.refresh()
        started = time.perf_counter()
        done = retro.run_once()
        took = time.perf_counter() - started
        out[kind] = {"entries": count, "acting": acting, "acted": done.acted,
                     "candidates": done.candidates, "seconds": round(took, 1),
                     "entries_per_min": round(count / took * 60)}  # fmt: skip
    index = SeenPdqIndex(store.seen_log)
    index.refresh()
    latencies = []
    for _ in range(args.queries):
        content_id = f"c{rng.randrange(args.seen)}"
        started = time.perf_counter()
        spread(store.seen_log, index, content_id, threshold=31)
        latencies.append(time.perf_counter() - started)
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    out["spread_ms"] = {"p50": round(1000 * statistics.median(latencies), 1),
                        "p99": round(1000 * p99, 1)}  # fmt: skip
    store.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", help="PostgreSQL URL (default: a SQLite file)")
    parser.add_argument("--seen", type=int, default=1_000_000)
    parser.add_argument("--pdq", type=int, default=100_000)
    parser.add_argument("--md5", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    with ExitStack() as stack:
        if args.pg:
            url = stack.enter_context(pg_schema(args.pg))
        else:
            url = f"sqlite:///{stack.enter_context(tempfile.TemporaryDirectory())}/hg.db"
        result = run(url, args)
    print(f"{'PostgreSQL' if args.pg else 'SQLite'}, {machine()['cpu']}: {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
