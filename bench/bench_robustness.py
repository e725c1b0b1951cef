"""Robustness and false matches of hashguard's PDQ matching against plain PDQ (pytx).

Measured on the 1080p set of the benign photo corpus built by ``bench/corpus.py``.

Robustness. For every image the "listed" hash is the plain PDQ hash of the original file,
each system's own: ours is ``hash_content(data).pdq``, plain PDQ's is python-threatexchange's
``pdq_from_bytes(data)``. Every transform of ``bench/transforms.py`` is applied to the decoded
original (RGB) and the result is encoded as JPEG quality 90 in memory; ``jpeg_q50`` encodes
itself, so its file is the quality-50 JPEG of the original (checked to decode to exactly the
pixels the transform returns). Ours matches when any of ``hash_content(file).pdq_queries``
(8 dihedral variants, plus 8 of the border-trimmed picture when borders are found) is within
31 bits of our listed hash; plain PDQ matches when ``pdq_from_bytes(file)`` is within 31 bits
of its listed hash. Reported per transform: the share matched by ours, by our plain hash alone
(query 0, the pipeline without variants) and by plain PDQ, median distances, and through
which kind of query ours matched.

False matches. Among all unordered pairs of distinct originals, ours matches when any query
of either image is within 31 bits of the other's plain hash; plain PDQ when the two plain
hashes are within 31 bits. Counts are given overall and without the pairs whose images come
from the same package (``manifest.json``: 120 look-alike astronomy photos come from
``stellarium-data``), broken down by package pair, and the closest pairs are listed by file
name so they can be looked at.

Run (the corpus must exist; other benchmark runners share the lock)::

    . .venv/bin/activate
    flock /tmp/hashguard-bench.lock python bench/bench_robustness.py --json robustness.json

``--limit N`` uses the first N images (quick trials); ``--jobs`` sets the worker processes.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from robustness_false import (
    FalseMatches,
    false_matches,
)
from robustness_model import (
    DEFAULT_CORPUS,
    DIHEDRAL,
    QUALITY,
    SELF_ENCODING,
    SET,
    THRESHOLD,
    ImageResult,
    Trial,
    query_kind,
)
from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_bytes
from transforms import TRANSFORMS

from hashguard.content import hash_content
from hashguard.signals.pdq import hamming


def jpeg(im: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def encoded_transform(name: str, original: Image.Image) -> tuple[bytes, bool | None]:
    """The file a transform yields, and (for a self-encoding one) whether it is exact."""
    out = TRANSFORMS[name](original)
    if not isinstance(out, Image.Image):
        raise TypeError(f"transform {name} returned {type(out).__name__}, not an image")
    quality = SELF_ENCODING.get(name)
    if quality is None:
        return jpeg(out.convert("RGB"), QUALITY), None
    data = jpeg(original, quality)
    with Image.open(io.BytesIO(data)) as decoded:
        exact = np.array_equal(np.asarray(decoded.convert("RGB")), np.asarray(out))
    if not exact:  # not the encoding we assumed: fall back to the transform's own pixels
        data = jpeg(out.convert("RGB"), QUALITY)
    return data, exact


def measure(path: Path, exact_orientations: bool = False) -> ImageResult:
    data = path.read_bytes()
    ours = hash_content(data, exact_orientations=exact_orientations)
    if ours.pdq is None:
        raise RuntimeError(f"{path}: hashguard could not hash it ({ours.media_error})")
    listed = ours.pdq
    pytx_hex, pytx_quality = pdq_from_bytes(data)
    pytx_listed = bytes.fromhex(pytx_hex)
    with Image.open(io.BytesIO(data)) as im:
        original = im.convert("RGB")
    trials: dict[str, Trial] = {}
    for name in TRANSFORMS:
        file, exact = encoded_transform(name, original)
        queries = hash_content(file, exact_orientations=exact_orientations).pdq_queries
        distances = [hamming(q, listed) for q in queries]
        best = min(range(len(distances)), key=distances.__getitem__)
        theirs, _ = pdq_from_bytes(file)
        trials[name] = Trial(
            ours_best=distances[best],
            ours_kind=query_kind(best),
            ours_plain=distances[0],
            pytx=hamming(bytes.fromhex(theirs), pytx_listed),
            self_encoded_exact=exact,
        )
    return ImageResult(
        name=path.name,
        ours_plain=listed.hex(),
        ours_quality=ours.pdq_quality,
        ours_queries=[q.hex() for q in ours.pdq_queries],
        pytx_plain=pytx_hex,
        pytx_quality=pytx_quality,
        trials=trials,
    )


@dataclass
class TransformSummary:
    n: int
    ours: float  # share matched
    ours_plain_only: float
    pytx: float
    ours_median: float  # median distance, best query
    ours_plain_median: float
    pytx_median: float
    ours_via: dict[str, int]  # matches by the kind of query closest
    self_encoded_exact: int | None


def summarise_transforms(results: Sequence[ImageResult]) -> dict[str, TransformSummary]:
    out: dict[str, TransformSummary] = {}
    for name in TRANSFORMS:
        trials = [r.trials[name] for r in results]
        n = len(trials)
        exact = [t.self_encoded_exact for t in trials if t.self_encoded_exact is not None]
        out[name] = TransformSummary(
            n=n,
            ours=sum(t.ours_best <= THRESHOLD for t in trials) / n,
            ours_plain_only=sum(t.ours_plain <= THRESHOLD for t in trials) / n,
            pytx=sum(t.pytx <= THRESHOLD for t in trials) / n,
            ours_median=statistics.median(t.ours_best for t in trials),
            ours_plain_median=statistics.median(t.ours_plain for t in trials),
            pytx_median=statistics.median(t.pytx for t in trials),
            ours_via=dict(Counter(t.ours_kind for t in trials if t.ours_best <= THRESHOLD)),
            self_encoded_exact=sum(exact) if exact else None,
        )
    return out


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def report(
    results: Sequence[ImageResult],
    transforms: dict[str, TransformSummary],
    fm: FalseMatches,
) -> str:
    low_ours = sum((r.ours_quality or 0) < 50 for r in results)
    low_pytx = sum(r.pytx_quality < 50 for r in results)
    trimmed = sum(len(r.ours_queries) > DIHEDRAL for r in results)
    lines = [
        f"Robustness: share of {len(results)} {SET} images still matched after each transform "
        f"(threshold {THRESHOLD} bits; JPEG q{QUALITY} after the transform)",
        "ours = any of hash_content().pdq_queries; ours plain = query 0 only; "
        "pytx = pdq_from_bytes",
        "",
        f"{'transform':<14} {'ours':>7} {'ours plain':>11} {'pytx':>7}   "
        f"{'median d: ours':>14} {'ours plain':>10} {'pytx':>5}   ours matched via",
    ]
    for name, s in transforms.items():
        via = ", ".join(f"{k} {v}" for k, v in sorted(s.ours_via.items()))
        lines.append(
            f"{name:<14} {pct(s.ours):>7} {pct(s.ours_plain_only):>11} {pct(s.pytx):>7}   "
            f"{s.ours_median:>14} {s.ours_plain_median:>10} {s.pytx_median:>5}   {via}"
        )
    for name, s in transforms.items():
        if s.self_encoded_exact is not None:
            lines.append(
                f"({name}: the q{SELF_ENCODING[name]} file decodes exactly to the transform's "
                f"output for {s.self_encoded_exact}/{s.n} images)"
            )
    lines += [
        f"(originals: quality < 50 ours {low_ours}, pytx {low_pytx}; "
        f"borders found, so trimmed queries too: {trimmed})",
        "",
        f"False matches among {fm.pairs} pairs of distinct originals "
        f"({fm.pairs_other_package} pairs from different packages)",
        "",
        f"{'':<40} {'all pairs':>10} {'other package':>14}",
        f"{'ours (any query of either vs plain)':<40} {fm.ours:>10} {fm.ours_other_package:>14}",
        f"{'ours plain vs plain':<40} {fm.ours_plain_only:>10} {'':>14}",
        f"{'pytx plain vs plain':<40} {fm.pytx:>10} {fm.pytx_other_package:>14}",
        "",
        "ours, by closest query kind: "
        + (", ".join(f"{k} {v}" for k, v in sorted(fm.ours_by_kind.items())) or "none"),
        "ours, by package pair: "
        + ("; ".join(f"{k}: {v}" for k, v in fm.ours_by_packages.items()) or "none"),
        "pytx, by package pair: "
        + ("; ".join(f"{k}: {v}" for k, v in fm.pytx_by_packages.items()) or "none"),
        "",
        f"Closest pairs (by the smaller of ours and pytx; match = <= {THRESHOLD}):",
        f"{'ours':>4} {'via':<8} {'plain':>5} {'pytx':>4}  images",
    ]
    for p in fm.closest:
        lines.append(f"{p.ours:>4} {p.ours_kind:<8} {p.ours_plain:>5} {p.pytx:>4}  {p.a}  ~  {p.b}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=None, help="first N images only")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--show", type=int, default=25, help="closest pairs listed")
    parser.add_argument("--json", type=Path, default=None, help="save the results here")
    parser.add_argument(
        "--exact-orientations",
        action="store_true",
        help="ours hashes each rotation/flip from its pixels (hashguard's exact_orientations)",
    )
    args = parser.parse_args(argv)
    task = functools.partial(measure, exact_orientations=args.exact_orientations)

    paths = sorted((args.corpus / SET).glob("*.jpg"))[: args.limit]
    if len(paths) < 2:
        print(f"too few images in {args.corpus / SET}; run bench/corpus.py", file=sys.stderr)
        return 2
    manifest = json.loads((args.corpus / "manifest.json").read_text())
    packages = {entry["name"]: entry["package"] for entry in manifest["images"]}

    started = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(task, paths, chunksize=4))
    else:
        results = [task(p) for p in paths]
    transforms = summarise_transforms(results)
    fm = false_matches(results, packages, args.show)
    elapsed = time.perf_counter() - started

    print(report(results, transforms, fm))
    print(
        f"\n({len(paths)} images, {len(TRANSFORMS)} transforms, {args.jobs} processes; "
        f"{elapsed:.0f} s)"
    )
    if args.json is not None:
        payload = {
            "benchmark": "robustness",
            "set": SET,
            "threshold": THRESHOLD,
            "quality": QUALITY,
            "limit": args.limit,
            "exact_orientations": args.exact_orientations,
            "elapsed_s": elapsed,
            "transforms": {name: asdict(s) for name, s in transforms.items()},
            "false_matches": asdict(fm),
            "images": [asdict(r) for r in results],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
