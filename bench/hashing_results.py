"""Hashing benchmark: what it found (speeds, spreads, conformance with the reference
hashes), the environment it ran in, and the printed report."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from _harness import machine
from PIL import features

COMPAT_BITS = 10  # ThreatExchange: hashers agree within 10 bits ...
COMPAT_QUALITY = 80  # ... on images of quality >= 80
POOLED = "ours_full_2proc"


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


def environment() -> dict[str, object]:
    return {
        **machine(("Pillow", "numpy", "pdqhash")),
        "libjpeg_turbo": bool(features.check_feature("libjpeg_turbo")),
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
