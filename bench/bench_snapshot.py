"""What checking a snapshot costs at load: PDQ snapshots of 1M and 10M random hashes.

Usage::

    python bench/bench_snapshot.py --sizes 1000000 10000000 [--repeats 5] [--seed 7]

For each size: build a ``HammingIndex`` over ``n`` random 256-bit hashes, save it (the save
hashes every file for the manifest), then time, in this process with the files in the page
cache (warm; a cold cache adds the disk's read time to the hashing, not measured here):

* peer, "map only": ``np.load(mmap_mode="r")`` of every array, as loads did before files
  had digests (the old ``snapshot.load``, no checks), plus one query;
* "load, recorded": ``snapshot.load`` as every worker start does it: the manifest's digest,
  every file's size, the record of the last check (``verified.json``) compared with the
  files' stat, dtypes, shapes and table bounds checked, arrays mapped; plus one query;
* "load, hashed": the same with the record deleted first, so every file is hashed (SHA-256
  through a memory map, up to 4 files at once): what the first load after a copy or a
  change of the files costs. "Hashing alone" times just that, and "on one thread" the same
  file after file (the peer of the thread pool).

Medians of ``--repeats`` runs; ratios against "map only" measured in the same run. Run it
alone: ``flock /tmp/hashguard-bench.lock python bench/bench_snapshot.py ...``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hashguard.index import integrity, snapshot
from hashguard.index.hamming import HammingIndex, Tables
from hashguard.index.rows import Rows


def median_seconds(fn: Callable[[], object], repeats: int, before: Callable[[], None]) -> float:
    times = []
    for _ in range(repeats):
        before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def map_only(directory: Path, probe: np.ndarray) -> None:
    info = json.loads((directory / "manifest.json").read_text())["types"]["pdq"]

    def mapped(name: str) -> np.ndarray:
        array: np.ndarray = np.load(directory / name, mmap_mode="r").view(np.ndarray)
        return array

    rows = Rows(
        mapped("pdq.pks.npy"), mapped("pdq.banks.npy"), np.load(directory / "pdq.alive.npy")
    )
    tables = Tables(int(info["chunks"]), mapped("pdq.offsets.npy"), mapped("pdq.order.npy"))
    index = HammingIndex(mapped("pdq.words.npy"), rows, tables)
    assert len(index.within(probe, 31)[1]) == 1


def checked(directory: Path, probe: np.ndarray) -> None:
    found = snapshot.load(directory)
    assert found is not None
    index = found[1]["pdq"]
    assert isinstance(index, HammingIndex)
    assert len(index.within(probe, 31)[1]) == 1


def measure(n: int, repeats: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    start = time.perf_counter()
    index = HammingIndex.build(codes, np.arange(n, dtype=np.int64), np.ones(n, np.int32))
    built = time.perf_counter() - start
    probe = codes[n // 2][None]
    del codes
    with tempfile.TemporaryDirectory(prefix="bench-snapshot-", dir="/tmp") as tmp:
        directory = Path(tmp) / "snapshot"
        start = time.perf_counter()
        snapshot.save(directory, "bench", 0, {"pdq": index})
        saved = time.perf_counter() - start
        del index
        stamp = directory / integrity.STAMP
        manifest = snapshot.read_manifest(directory)
        assert manifest is not None
        disk = sum(f["bytes"] for f in manifest.files.values())
        time.sleep(0.05)  # past the clock tick of the writes: the record is trusted

        def nothing() -> None:
            pass

        def unrecord() -> None:
            stamp.unlink(missing_ok=True)

        checked(directory, probe)  # pages in, and a record made after the writes' tick
        digests = median_seconds(
            lambda: integrity.check_digests(directory, manifest.files), repeats, nothing
        )
        one_thread = median_seconds(
            lambda: [integrity.file_sha256(directory / f) for f in manifest.files], repeats, nothing
        )
        peer = median_seconds(lambda: map_only(directory, probe), repeats, nothing)
        recorded = median_seconds(lambda: checked(directory, probe), repeats, nothing)
        hashed = median_seconds(lambda: checked(directory, probe), repeats, unrecord)
    return {
        "n": n,
        "build_s": built,
        "save_s": saved,
        "disk_gb": disk / 1e9,
        "digests_s": digests,
        "one_thread_s": one_thread,
        "map_only_ms": peer * 1e3,
        "recorded_ms": recorded * 1e3,
        "hashed_ms": hashed * 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(
        "| PDQ rows | on disk | save | map only (peer) | load, recorded | load, hashed "
        "| hashing alone | on one thread |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        r = measure(n, args.repeats, args.seed)
        print(
            f"| {n:,} | {r['disk_gb']:.2f} GB | {r['save_s']:.1f} s | {r['map_only_ms']:.1f} ms "
            f"| {r['recorded_ms']:.1f} ms ({r['recorded_ms'] / r['map_only_ms']:.2f}x) "
            f"| {r['hashed_ms']:.0f} ms ({r['hashed_ms'] / r['map_only_ms']:.0f}x) "
            f"| {r['digests_s']:.2f} s ({r['disk_gb'] / r['digests_s']:.2f} GB/s) "
            f"| {r['one_thread_s']:.2f} s ({r['disk_gb'] / r['one_thread_s']:.2f} GB/s) |",
            flush=True,
        )


if __name__ == "__main__":
    main()
