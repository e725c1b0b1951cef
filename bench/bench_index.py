"""Benchmark hashguard's PDQ near-duplicate index against its peers, measured in the same run.

Usage::

    python bench/bench_index.py --sizes 1000000 10000000 [--queries 2000] [--json out.json]
        [--skip-pytx] [--budget 300] [--build-timeout 600] [--seed 7]

For each size ``n`` the data are ``n`` random 256-bit hashes (numpy ``default_rng(seed)``, so
every process regenerates the same set). The queries are ``--queries`` hashes of the set, each
with k distinct random bits flipped (k uniform in 0..31, so each has a match within 31), plus
as many purely random hashes (no match expected), shuffled together. Latency is reported for
near, random and all queries, as the median (p50) and 99th percentile of single calls, each
searching one query at threshold 31 (inclusive).

Systems, each measured in its own fresh process (spawned) so that RSS growth is its own:

* ours: ``hashguard.index.hamming.HammingIndex``. Build time, ``nbytes`` and RSS growth over
  the build; snapshot save, load (open + first query, arrays memory-mapped) and warm load
  (every array copied into memory + first query); single-query latency for the index built
  in memory and for the one loaded from the snapshot; "dihedral" latency, one call with the
  8 variants of one image (8 random near variants of a target); batch throughput (batches of
  64) in this process, and in 1 and 2 worker processes sharing the snapshot via mmap.
* faiss ``IndexBinaryFlat``: brute force, ``range_search(q, 32)``.
* faiss ``IndexBinaryMultiHash(256, 16, 16)`` with ``nflip=1``, raw (what pytx wraps).
* python-threatexchange ``PDQIndex`` (``--skip-pytx`` leaves it out): built from
  ``(hex, pk)`` pairs, queried with ``query(hex)``.

Recall: a separate process computes the ground truth with faiss ``IndexBinaryFlat``
``range_search`` at radius 32 (faiss keeps distances < radius, i.e. <= 31). Every system's
single-query results are compared with it: misses (true pairs not returned) and extras
(returned pairs not true) should both be 0.

Memory: "RSS +" is resident memory after the build minus before it (inputs prepared before);
"peak +" is the high-water mark during the build (reset just before it) minus the same start.
Times are wall clock; the first 20 queries are run once untimed to warm up. A latency loop
stops after ``--budget`` seconds (the queries are shuffled, so the measured ones are a fair
sample; the table says how many). A build that takes over ``--build-timeout`` seconds, or a
process that dies (e.g. out of memory), is reported as such and the run goes on. faiss keeps
its default OpenMP threads; a single-query range search runs on one of them.

The table goes to stdout, progress to stderr; ``--json`` also writes every figure to a file.
Run it alone on the machine (``flock /tmp/hashguard-bench.lock python bench/...``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from index_report import (
    machine,
    report,
)
from index_systems import (
    PEERS,
    measure_ours,
    measure_peer,
)
from index_workload import (
    Result,
    ground_truth,
    log,
    run_isolated,
)

# --- one size ---------------------------------------------------------------------------


def check_recall(result: Result, name: str, truth: np.ndarray, n: int) -> None:
    """Replace the found keys by misses and extras against the truth (measured queries)."""
    measured = result[f"latency{name}"]["measured"]
    expected = truth[truth // n < measured]
    found = result.pop(f"keys{name}")
    result[f"recall{name}"] = {
        "true_pairs": len(expected),
        "misses": len(np.setdiff1d(expected, found)),
        "extras": len(np.setdiff1d(found, expected)),
    }


def bench_size(n: int, args: argparse.Namespace) -> Result:
    common = (n, args.queries, args.seed)
    log(f"n={n:,}: ground truth")
    truth = run_isolated(ground_truth, common, args.build_timeout)
    if "error" in truth:
        raise SystemExit(f"ground truth failed: {truth['error']}")
    keys = truth.pop("keys")
    truth["pairs"] = len(keys)
    systems: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(prefix="hashguard-bench-") as workdir:
        log(f"n={n:,}: ours")
        ours = run_isolated(measure_ours, (*common, args.budget, Path(workdir)), args.build_timeout)
        for kind in ("memory", "mmap"):
            if "error" not in ours:
                check_recall(ours, f"_{kind}", keys, n)
        systems["ours"] = ours
    for name in PEERS:
        if name == "pytx" and args.skip_pytx:
            continue
        log(f"n={n:,}: {name}")
        peer = run_isolated(measure_peer, (name, *common, args.budget), args.build_timeout)
        if "error" not in peer:
            check_recall(peer, "", keys, n)
        systems[name] = peer
    return {"n": n, "truth": truth, "systems": systems}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", required=True)
    parser.add_argument("--queries", type=int, default=2000, help="near queries (as many random)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--skip-pytx", action="store_true", help="leave out pytx PDQIndex")
    parser.add_argument("--budget", type=float, default=300, help="seconds per latency loop")
    parser.add_argument("--build-timeout", type=float, default=600, help="seconds per build")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    env = machine()
    print(
        f"hashguard index benchmark: {env['cpu']}, {env['cores']} cores, "
        f"{env['ram_gb']:.0f} GB; numpy {env['numpy']}, faiss {env['faiss']} "
        f"({env['faiss_threads']} threads), threatexchange {env['threatexchange']}\n",
        flush=True,
    )
    sizes = []
    for n in args.sizes:
        size = bench_size(n, args)
        sizes.append(size)
        print("\n".join(report(size, args.queries)), flush=True)
    total = time.perf_counter() - started
    print(f"total run time {total / 60:.1f} min", flush=True)
    if args.json:
        config = {k: v for k, v in vars(args).items() if k != "json"}
        out = {"config": config, "machine": env, "total_s": total, "sizes": sizes}
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
