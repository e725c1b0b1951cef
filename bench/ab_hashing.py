"""Image hashing as ``/v1/match`` does it (digests, PDQ's 8 dihedral variants, trimmed
borders), two versions of hashguard side by side, in interleaved slices on one core.

Usage::

    mkdir /tmp/base && git archive <commit> src | tar -x -C /tmp/base
    flock /tmp/hashguard-bench.lock python bench/ab_hashing.py --a /tmp/base/src --b src
        [--rounds 15] [--images DIR]

The images are every JPEG and PNG under ``--images`` (default ``tests/data``: photos,
pictures with borders, mirrored and rotated copies). One process per version
(``PYTHONPATH`` set to its source directory), both pinned to one core, hashes all of them
once to warm up, then, round after round and in random order, hashes them all again and
reports its ``time.process_time``. Printed: the median images/s of each version and the
median of the per-round ratios b/a with their range.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = """
import os, sys, time
from pathlib import Path
os.sched_setaffinity(0, {int(os.environ["AB_CPU"])})
import importlib.util
if importlib.util.find_spec("hashguard.plugins") is None:
    import hashguard.signals.registry as _registry  # see ab_match.py
    _registry.entry_points = lambda group: []
from hashguard.content import hash_content
data = [Path(p).read_bytes() for p in sys.argv[1:]]
for d in data:
    hash_content(d)
print("ready", flush=True)
for _ in sys.stdin:
    t = time.process_time()
    for d in data:
        hash_content(d)
    print(time.process_time() - t, flush=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", required=True, help="source directory of version a")
    parser.add_argument("--b", required=True, help="source directory of version b")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--images", type=Path, default=Path("tests/data"))
    args = parser.parse_args()
    images = sorted(
        str(p) for p in args.images.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")
    )
    cpu = str(sorted(os.sched_getaffinity(0))[-1])
    children = {}
    for name, src in (("a", args.a), ("b", args.b)):
        env = {**os.environ, "PYTHONPATH": str(Path(src).resolve()), "AB_CPU": cpu}
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, *images],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        children[name] = child
    times: dict[str, list[float]] = {"a": [], "b": []}
    rng = random.Random(7)
    for _ in range(args.rounds):
        order = ["a", "b"]
        rng.shuffle(order)
        for name in order:
            child = children[name]
            assert child.stdin is not None and child.stdout is not None
            child.stdin.write("go\n")
            child.stdin.flush()
            times[name].append(float(child.stdout.readline()))
    for child in children.values():
        assert child.stdin is not None
        child.stdin.close()
        child.wait()
    ratios = [x / y for x, y in zip(times["a"], times["b"], strict=True)]  # speed b / a
    n = len(images)
    print(f"{n} images; {args.rounds} rounds")
    print(
        f"hashing  a {n / statistics.median(times['a']):6.1f} images/s   "
        f"b {n / statistics.median(times['b']):6.1f} images/s   "
        f"b/a {statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f})"
    )


if __name__ == "__main__":
    main()
