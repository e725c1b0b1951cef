"""Import throughput: an N-row CSV list into a fresh bank, on SQLite and on PostgreSQL.

The list alternates md5 and pdq rows with ids and categories, like a hotline's hash list.
Each import is the real path (`hashguard import`): parse and validate every row, stage it,
apply it set-based in one transaction, write the change log. A second import of the same
file measures the idempotent re-import (nothing changes); then one-row imports into the
full bank (a new entry, a metadata change, a retraction, a re-addition) measure what a
curator's single API call costs there.

    python bench/bench_import.py --rows 10000000 [--pg postgresql://postgres@127.0.0.1/test]

The generated CSV and the SQLite file go to a temporary directory and are deleted after.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from _harness import pg_schema

from hashguard.errors import RowError
from hashguard.lists import formats
from hashguard.signals.registry import default_registry
from hashguard.store.store import Store


def write_list(path: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        f.write("signal_type,signal,id,category\n")
        step = 500_000
        for start in range(0, rows, step):
            n = min(step, rows - start)
            md5 = rng.integers(0, 256, (n, 16), dtype=np.uint8)
            pdq = rng.integers(0, 256, (n, 32), dtype=np.uint8)
            cats = "ABC"
            f.writelines(
                f"md5,{md5[i].tobytes().hex()},m{start + i},{cats[i % 3]}\n"
                if (start + i) % 2 == 0
                else f"pdq,{pdq[i].tobytes().hex()},p{start + i},{cats[i % 3]}\n"
                for i in range(n)
            )


def timed_import(store: Store, bank: str, path: Path) -> tuple[float, int]:
    errors: list[RowError] = []
    started = time.perf_counter()
    with open(path, "rb") as raw:
        rows = formats.get("csv").read(raw, default_registry(), errors)
        report = store.import_rows(bank, rows, errors, "bench")
    return time.perf_counter() - started, report.signals_added


def one_row_ms(store: Store, path: Path) -> dict[str, float]:
    """Median milliseconds of one-row imports into the full bank, as a curator's API calls
    make them: a new entry, a metadata change, a retraction, a re-addition (5 of each)."""
    lines = {
        "add": "signal_type,signal,id\nmd5,{hex},new{n}\n",
        "update": "signal_type,signal,id,category\nmd5,{old},m0,X{n}\n",
        "retract": "action,signal_type,signal,id\nretract,md5,{old},m{m}\n",
        "re-add": "signal_type,signal,id\nmd5,{old},m{m}\n",
    }
    with open(path) as f:
        f.readline()
        first_md5 = f.readline().split(",")[1]
    spent: dict[str, list[float]] = {kind: [] for kind in lines}
    for n in range(5):
        for kind, line in lines.items():
            path.with_suffix(".one").write_text(
                line.format(hex=f"{n:032x}", old=first_md5, n=n, m=2 * n)
            )
            spent[kind].append(timed_import(store, "bench", path.with_suffix(".one"))[0])
    return {f"one_row_{k}_ms": round(statistics.median(v) * 1e3, 1) for k, v in spent.items()}


def measure(url: str, path: Path, rows: int) -> dict[str, float]:
    store = Store(url)
    store.create_bank("bench")
    first, added = timed_import(store, "bench", path)
    assert added == rows, f"expected {rows} signals added, got {added}"
    again, added_again = timed_import(store, "bench", path)
    assert added_again == 0
    small = one_row_ms(store, path)
    store.close()
    return {
        "seconds": round(first, 1),
        "rows_per_s": round(rows / first),
        "reimport_seconds": round(again, 1),
        "reimport_rows_per_s": round(rows / again),
        **small,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="hg-bench-import-") as tmp:
        path = Path(tmp) / "list.csv"
        started = time.perf_counter()
        write_list(path, args.rows)
        print(f"wrote {args.rows:,} rows in {time.perf_counter() - started:.0f}s")
        results["sqlite"] = measure(f"sqlite:///{tmp}/bench.db", path, args.rows)
        print("sqlite", results["sqlite"], flush=True)
        with pg_schema(args.pg) as url:
            results["postgresql"] = measure(url, path, args.rows)
            print("postgresql", results["postgresql"], flush=True)
    print(
        f"\n{'database':<12}{'rows':>12}{'seconds':>10}{'rows/s':>10}{'re-import rows/s':>18}"
        "   one row into the full bank, ms: add / update / retract / re-add"
    )
    for name, r in results.items():
        print(
            f"{name:<12}{args.rows:>12,}{r['seconds']:>10}{r['rows_per_s']:>10,}"
            f"{r['reimport_rows_per_s']:>18,}   {r['one_row_add_ms']} / "
            f"{r['one_row_update_ms']} / {r['one_row_retract_ms']} / {r['one_row_re-add_ms']}"
        )
    if args.json:
        args.json.write_text(json.dumps({"rows": args.rows, **results}, indent=1))


if __name__ == "__main__":
    main()
