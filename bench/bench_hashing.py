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
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pdqhash
import PIL
from PIL import Image, features
from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_file
from threatexchange.signal_type.pdq.signal import PdqSignal

from hashguard.content import hash_content
from hashguard.signals.pdq import hamming, pdq_hash

DEFAULT_CORPUS = Path.home() / ".cache" / "hashguard-bench" / "corpus"
SETS = ("1080p", "480p")
WORKERS = 2
CHUNKSIZE = 8
COMPAT_BITS = 10  # ThreatExchange: hashers agree within 10 bits ...
COMPAT_QUALITY = 80  # ... on images of quality >= 80
POOLED = "ours_full_2proc"

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


def nearest_rank(values: Sequence[int], pct: float) -> int:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


@dataclass
class Spread:
    """Distances between our plain PDQ hash and pytx's, over a set of images."""

    n: int
    max: int
    p99: int
    median: float
    within_10: float

    @classmethod
    def of(cls, distances: Sequence[int]) -> Spread | None:
        if not distances:
            return None
        return cls(
            n=len(distances),
            max=max(distances),
            p99=nearest_rank(distances, 99),
            median=float(statistics.median(distances)),
            within_10=sum(d <= COMPAT_BITS for d in distances) / len(distances),
        )


@dataclass
class Disagreement:
    name: str
    distance: int
    quality_ours: int | None
    quality_pytx: int


@dataclass
class Conformance:
    all: Spread | None
    quality_ge_80: Spread | None
    worst: list[Disagreement]
    reference: Spread | None


@dataclass
class SetResult:
    images: int
    runs: dict[str, list[float]]
    median: dict[str, float]
    ratio_full_vs_pytx: float
    ratio_plain_vs_pytx: float
    scaling_2proc: float
    conformance: Conformance


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


def environment() -> dict[str, object]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "pillow": PIL.__version__,
        "libjpeg_turbo": bool(features.check_feature("libjpeg_turbo")),
        "numpy": np.__version__,
        "pdqhash": getattr(pdqhash, "__version__", "?"),
    }


def report(results: dict[str, SetResult], repeats: int) -> str:
    lines = [
        f"Hashing throughput, images/s (median of {repeats} passes; single process = per core)",
        "",
        f"{'set':<6} {'n':>4} {'ours full':>10} {'ours plain':>11} {'ours exact':>11} {'pytx':>7} "
        f"{'full/pytx':>10} {'plain/pytx':>11} {'ours full 2proc':>16} {'2proc/1proc':>12}",
    ]
    for name, r in results.items():
        med = r.median
        lines.append(
            f"{name:<6} {r.images:>4} {med['ours_full']:>10.1f} {med['ours_plain']:>11.1f} "
            f"{med['ours_exact']:>11.1f} "
            f"{med['pytx']:>7.1f} {r.ratio_full_vs_pytx:>9.2f}x "
            f"{r.ratio_plain_vs_pytx:>10.2f}x {med[POOLED]:>16.1f} {r.scaling_2proc:>11.2f}x"
        )
    lines += ["", "Per-pass images/s (spread):"]
    for name, r in results.items():
        for method, values in r.runs.items():
            lines.append(f"  {name:<6} {method:<16} " + "  ".join(f"{v:7.1f}" for v in values))
    lines += [
        "",
        f"Conformance: Hamming distance of our plain PDQ to the reference pipeline (pdqio.cpp:"
        f" 512x512 nearest) and to pytx pdq_from_file (rule: <= {COMPAT_BITS} bits at "
        f"quality >= {COMPAT_QUALITY})",
        "",
        f"{'set':<6} {'subset':<16} {'n':>4} {'max':>4} {'p99':>4} {'median':>7} {'<=10 bits':>10}",
    ]
    for name, r in results.items():
        subsets = {
            "vs reference": r.conformance.reference,
            "vs pytx, all": r.conformance.all,
            "vs pytx, q>=80": r.conformance.quality_ge_80,
        }
        for subset, s in subsets.items():
            if s is None:
                lines.append(f"{name:<6} {subset:<16} {0:>4}")
                continue
            lines.append(
                f"{name:<6} {subset:<16} {s.n:>4} {s.max:>4} {s.p99:>4} {s.median:>7.1f} "
                f"{100 * s.within_10:>9.1f}%"
            )
    lines += ["", "Largest distances:"]
    for name, r in results.items():
        for w in r.conformance.worst:
            lines.append(
                f"  {name:<6} {w.distance:>3} bits  quality ours {w.quality_ours}, "
                f"pytx {w.quality_pytx}  {w.name}"
            )
    return "\n".join(lines)


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
