"""Hashing throughput and PDQ conformance of hashguard against python-threatexchange.

Measured on the benign photo corpus built by ``bench/corpus.py`` (1080p and 480p sets,
reported separately), in one run:

- throughput, images/s in a single process (so per core), of
  (a) ours, ``hash_content(data)`` in full: digests, the 8 dihedral PDQ variants and, when
      borders are found, the 8 variants of the trimmed image;
  (b) ours, ``hash_content(data, variants=False)``: digests and the plain PDQ hash only;
  (c) ours with ``exact_orientations=True`` (each rotation/flip hashed from its pixels);
  (d) python-threatexchange, ``PdqSignal.hash_from_file(path)``;
  every file is read from disk inside the timed loop (the page cache is warmed by one
  untimed pass first). The whole pass (a, b, c) is repeated ``--repeats`` times (default 3);
  the median images/s and the ratio ours/pytx of the medians are reported;
- throughput of (a) with ``concurrent.futures.ProcessPoolExecutor(2)`` mapping over the file
  paths (images/s in total; workers are started before timing), median of the repeats;
- conformance: for every corpus image, the Hamming distance between our plain ``c.pdq`` and
  (1) the reference pipeline, ``pdq/cpp/io/pdqio.cpp``, emulated: full decode, 512x512
  nearest-neighbour resize when a side is over 512, then the same ``pdqhash`` core the C++
  tool uses; (2) python-threatexchange's ``pdq_from_file``, which skips the 512 step and so
  is not the reference itself. Max, p99 (nearest rank) and the share within 10 bits,
  ThreatExchange's compatibility rule for hashes of quality >= 80.

Run (the corpus must exist; other benchmark runners share the lock)::

    . .venv/bin/activate
    flock /tmp/hashguard-bench.lock python bench/bench_hashing.py --json /tmp/bench_hashing.json

``--limit N`` hashes only the first N images of each set (quick trials).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np
from hashing_results import (
    COMPAT_QUALITY,
    POOLED,
    Conformance,
    Disagreement,
    SetResult,
    Spread,
    environment,
    report,
)
from PIL import Image
from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_file
from threatexchange.signal_type.pdq.signal import PdqSignal

from hashguard.content import hash_content
from hashguard.signals.pdq import hamming, pdq_hash

DEFAULT_CORPUS = Path.home() / ".cache" / "hashguard-bench" / "corpus"
SETS = ("1080p", "480p")
WORKERS = 2
CHUNKSIZE = 8

HashFn = Callable[[Path], object]


def ours_full(path: Path) -> object:
    return hash_content(path.read_bytes())


def ours_plain(path: Path) -> object:
    return hash_content(path.read_bytes(), variants=False)


def ours_exact(path: Path) -> object:
    return hash_content(path.read_bytes(), exact_orientations=True)


def pytx(path: Path) -> object:
    return PdqSignal.hash_from_file(path)


def reference_pdq(path: Path) -> bytes:
    """What ``pdqio.cpp`` computes: full decode, 512x512 nearest if larger, PDQ core."""
    im = Image.open(path).convert("RGB")
    if im.width > 512 or im.height > 512:
        im = im.resize((512, 512), Image.Resampling.NEAREST)
    return pdq_hash(np.asarray(im))[0]


METHODS: dict[str, HashFn] = {
    "ours_full": ours_full,
    "ours_plain": ours_plain,
    "ours_exact": ours_exact,
    "pytx": pytx,
}


def worker_hash(path: Path) -> bytes | None:
    """Pool task: the full hash of one file; only the plain hash travels back."""
    return hash_content(path.read_bytes()).pdq


def worker_ready(_: int) -> int:
    return os.getpid()


def rate(fn: HashFn, paths: Sequence[Path]) -> float:
    """Images/s of ``fn`` over ``paths`` in this process."""
    start = time.perf_counter()
    for path in paths:
        fn(path)
    return len(paths) / (time.perf_counter() - start)


def pool_rate(pool: ProcessPoolExecutor, paths: Sequence[Path]) -> float:
    """Images/s of ``worker_hash`` over ``paths`` spread over the pool's processes."""
    start = time.perf_counter()
    for _ in pool.map(worker_hash, paths, chunksize=CHUNKSIZE):
        pass
    return len(paths) / (time.perf_counter() - start)


def conformance(paths: Sequence[Path]) -> Conformance:
    """Untimed pass (warms the page cache): our plain PDQ against pytx's, image by image."""
    rows: list[Disagreement] = []
    good: list[int] = []  # distances where both qualities are >= COMPAT_QUALITY
    to_reference: list[int] = []
    for path in paths:
        ours = hash_content(path.read_bytes())
        if ours.pdq is not None:
            to_reference.append(hamming(ours.pdq, reference_pdq(path)))
        theirs_hex, theirs_quality = pdq_from_file(path)
        if ours.pdq is None:
            raise SystemExit(f"{path}: hashguard could not hash it ({ours.media_error})")
        d = hamming(ours.pdq, bytes.fromhex(theirs_hex))
        rows.append(Disagreement(path.name, d, ours.pdq_quality, theirs_quality))
        if (ours.pdq_quality or 0) >= COMPAT_QUALITY and theirs_quality >= COMPAT_QUALITY:
            good.append(d)
    worst = sorted(rows, key=lambda r: r.distance, reverse=True)[:5]
    return Conformance(
        Spread.of([r.distance for r in rows]), Spread.of(good), worst, Spread.of(to_reference)
    )


def bench_set(paths: Sequence[Path], repeats: int, pool: ProcessPoolExecutor) -> SetResult:
    conf = conformance(paths)
    runs: dict[str, list[float]] = {name: [] for name in [*METHODS, POOLED]}
    for _ in range(repeats):
        for name, fn in METHODS.items():
            runs[name].append(rate(fn, paths))
        runs[POOLED].append(pool_rate(pool, paths))
    medians = {name: statistics.median(values) for name, values in runs.items()}
    return SetResult(
        images=len(paths),
        runs=runs,
        median=medians,
        ratio_full_vs_pytx=medians["ours_full"] / medians["pytx"],
        ratio_plain_vs_pytx=medians["ours_plain"] / medians["pytx"],
        scaling_2proc=medians[POOLED] / medians["ours_full"],
        conformance=conf,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="first N images of each set")
    parser.add_argument("--json", type=Path, default=None, help="save the results here")
    args = parser.parse_args(argv)

    sets: dict[str, list[Path]] = {}
    for name in SETS:
        paths = sorted((args.corpus / name).glob("*.jpg"))[: args.limit]
        if not paths:
            print(f"no images in {args.corpus / name}; run bench/corpus.py", file=sys.stderr)
            return 2
        sets[name] = paths

    started = time.perf_counter()
    results: dict[str, SetResult] = {}
    with ProcessPoolExecutor(WORKERS) as pool:
        pids = set(pool.map(worker_ready, range(4 * WORKERS)))  # start and import the workers
        pool_pids = len(pids)
        for name, paths in sets.items():
            results[name] = bench_set(paths, args.repeats, pool)
    elapsed = time.perf_counter() - started

    print(report(results, args.repeats))
    print(f"\n({pool_pids} pool processes; {elapsed:.0f} s in all)")
    if args.json is not None:
        payload = {
            "benchmark": "hashing",
            "environment": environment(),
            "repeats": args.repeats,
            "limit": args.limit,
            "elapsed_s": elapsed,
            "sets": {name: asdict(r) for name, r in results.items()},
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
