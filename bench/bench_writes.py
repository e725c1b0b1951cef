"""The store's small writes timed in-process, without HTTP: what the service's figures for
single adds and the seen log break down into (docs/benchmarks.md quotes them).

1. one single add (``Store.submit_entry(...).result()``) on PostgreSQL, against a bank of
   ``--rows`` random PDQ entries: the median of ``--adds``, with the store's kept
   connections and, the same run, with every add taking a pooled connection again (its
   pre-ping; the way before ``KeptConnection``);
2. the seen log's write of ``--seen`` rows in one transaction (the writer thread's own
   path), on SQLite and PostgreSQL: µs of CPU per row.

    flock /tmp/hashguard-bench.lock python bench/bench_writes.py --pg postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime

from _harness import machine, pg_schema

from hashguard.lists.rows import ListRow, entry_rows
from hashguard.store.database import KeptConnection
from hashguard.store.seen_log import seen_row
from hashguard.store.store import Store


def adds(store: Store, n: int, prefix: str) -> float:
    times = []
    for i in range(n):
        rows, _ = entry_rows(f"{prefix}{i}", [("pdq", secrets.token_hex(32), None)], {},
                             store.registry)  # fmt: skip
        started = time.perf_counter()
        store.submit_entry("bench", rows).result()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times[n // 10 :])


def seen_write(store: Store, n: int) -> float:
    now = datetime.now(UTC)
    rows = [seen_row(now, "allow", f"md5:{i}", {"md5": f"{i:032x}"}, {"chat_id": "g"})
            for i in range(n)]  # fmt: skip
    started = time.process_time()
    store.seen_log._write(rows)  # the writer thread's path, without its timer
    return 1e6 * (time.process_time() - started) / n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", required=True)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--adds", type=int, default=600)
    parser.add_argument("--seen", type=int, default=20_000)
    args = parser.parse_args()
    print(machine()["cpu"])
    with pg_schema(args.pg) as url:
        store = Store(url)
        store.create_bank("bench")
        listed = (ListRow(i + 1, "add", f"s{i}", "pdq", secrets.token_hex(32))
                  for i in range(args.rows))  # fmt: skip
        store.import_rows("bench", listed, [], "bench")
        kept = adds(store, args.adds, "k")
        store._writer = KeptConnection(store.engine)
        store._writer._kept = False  # every use a pooled checkout, with its ping
        pooled = adds(store, args.adds, "p")
        print(f"single add, PostgreSQL, {args.rows:,}-entry bank, median of {args.adds}: "
              f"{kept:.2f} ms with kept connections, {pooled:.2f} ms pooled")  # fmt: skip
        print(f"seen log, PostgreSQL: {seen_write(store, args.seen):.1f} µs of CPU a row")
        store.close()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/hg.db")
        print(f"seen log, SQLite: {seen_write(store, args.seen):.1f} µs of CPU a row")
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
