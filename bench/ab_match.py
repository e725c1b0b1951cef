"""``POST /v1/match`` with precomputed PDQ hashes, two versions of hashguard side by side:
what shaping a match key's answers and watching its queries for probing costs per request.

Usage::

    mkdir /tmp/base && git archive <commit> src | tar -x -C /tmp/base
    flock /tmp/hashguard-bench.lock python bench/ab_match.py --a /tmp/base/src --b src
        [--entries 100000] [--rounds 15] [--chunk 200]

A SQLite store with one bank of ``--entries`` random PDQ hashes and a ``match`` key is made
once by the installed version. One process per version (``PYTHONPATH`` set to its source
directory), both pinned to one core, serves the real app in-process (``TestClient``) and is
handed, round after round and in turn, the same slices of ``--chunk`` requests of each group:
``clean`` (random hashes: nothing within the threshold) and ``matched`` (listed hashes,
each once: no two near-identical, so the detector never fires). Each times its slice with
``time.process_time``. Printed: per group, the median requests/s of each version and the
median of the per-round ratios b/a with their range. Then, in this process (the installed
version), the added work alone: the detector's look at a clean query and at a matched one
(a key with a full memory of 256 queries), and shaping one match for a match key, in
microseconds per call, beside the time of a whole request of version b.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import store_for

from hashguard.errors import RowError
from hashguard.lists import formats
from hashguard.signals.registry import default_registry
from hashguard.store.store import Store

CHILD = """
import json, os, sys, time
from pathlib import Path
os.sched_setaffinity(0, {int(os.environ["AB_CPU"])})
import importlib.util
if importlib.util.find_spec("hashguard.plugins") is None:
    # A version from before issue 11 registers its built-in signal types by hand, then the
    # installed (newer) package's entry points would register them twice: skip those.
    import hashguard.signals.registry as _registry
    _registry.entry_points = lambda group: []
from fastapi.testclient import TestClient
from hashguard.api.server import create_app
from hashguard.engine import Engine
from hashguard.errors import RowError
from hashguard.store.store import Store
db, index_dir, key, hashes_path = sys.argv[1:5]
groups = json.loads(Path(hashes_path).read_text())
engine = Engine(Store(db, create=False), index_dir=Path(index_dir))
headers = {"Authorization": f"Bearer {key}"}
with TestClient(create_app(engine)) as client:
    def run(values):
        for v in values:
            r = client.post("/v1/match", json={"signals": [{"type": "pdq", "value": v}]},
                            headers=headers)
            assert r.status_code == 200, r.text
    run(groups["clean"][:200])  # warm up
    print("ready", flush=True)
    for line in sys.stdin:
        group, start, n = line.split()
        values = groups[group][int(start):int(start) + int(n)]
        t = time.process_time()
        run(values)
        print(time.process_time() - t, flush=True)
"""


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--a", required=True, help="source directory of version a (the base)")
    p.add_argument("--b", required=True, help="source directory of version b")
    p.add_argument("--entries", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--chunk", type=int, default=200)
    p.add_argument("--seed", type=int, default=5)
    args = p.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="hashguard-ab-match-"))
    db = f"sqlite:///{work / 'hg.db'}"
    listed = [f"{rng.getrandbits(256):064x}" for _ in range(args.entries)]
    store = Store(db)
    store.create_bank("b")
    text = "signal_type,signal,id\n" + "".join(f"pdq,{h},e{i}\n" for i, h in enumerate(listed))
    errors: list[RowError] = []
    rows = formats.get("csv").read(io.BytesIO(text.encode()), default_registry(), errors)
    store.import_rows("b", rows, errors, "bench")
    key = store.keys.create("bench", ["match"], actor="bench")[1]
    store.close()
    total = args.rounds * args.chunk
    groups = {
        "clean": [f"{rng.getrandbits(256):064x}" for _ in range(total + 200)],
        "matched": rng.sample(listed, min(len(listed), total)),
    }
    hashes = work / "hashes.json"
    hashes.write_text(json.dumps(groups))
    cpu = str(sorted(os.sched_getaffinity(0))[-1])
    children = {}
    for name, src in (("a", args.a), ("b", args.b)):
        env = {**os.environ, "PYTHONPATH": str(Path(src).resolve()), "AB_CPU": cpu}
        child = subprocess.Popen(
            [
                sys.executable, "-c", CHILD, store_for(Path(src), work / "hg.db"),
                str(work / f"idx-{name}"), key, str(hashes),
            ],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        children[name] = child
    times: dict[tuple[str, str], list[float]] = {}
    for r in range(args.rounds):
        for group in ("clean", "matched"):
            start = r * args.chunk
            order = ["a", "b"]
            rng.shuffle(order)
            for name in order:
                child = children[name]
                assert child.stdin is not None and child.stdout is not None
                child.stdin.write(f"{group} {start} {args.chunk}\n")
                child.stdin.flush()
                times.setdefault((name, group), []).append(float(child.stdout.readline()))
    for child in children.values():
        assert child.stdin is not None
        child.stdin.close()
        child.wait()
    print(f"{args.entries} listed PDQ hashes; {args.rounds} rounds of {args.chunk} requests")
    for group in ("clean", "matched"):
        a, b = times[("a", group)], times[("b", group)]
        ratios = [x / y for x, y in zip(a, b, strict=True)]  # speed b / speed a
        print(
            f"{group:8} a {args.chunk / statistics.median(a):7.0f} req/s   "
            f"b {args.chunk / statistics.median(b):7.0f} req/s   "
            f"b/a {statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f})"
        )
    added_work(groups, args.chunk / statistics.median(times[("b", "clean")]))


def added_work(groups: dict[str, list[str]], b_rate: float) -> None:
    from hashguard.access.api_keys import ApiKey
    from hashguard.access.probing import ProbeDetector
    from hashguard.access.visibility import View, matches_shown
    from hashguard.engine import Match

    detector = ProbeDetector()
    clean = [int(v, 16) for v in groups["clean"]]
    for h in clean[:256]:
        detector.observe(1, [h], matched=False)
    n = len(clean) - 256
    t = time.process_time()
    for h in clean[256:]:
        detector.observe(1, [h], matched=False)
    clean_us = (time.process_time() - t) / n * 1e6
    matched = [int(v, 16) for v in groups["matched"]]
    t = time.process_time()
    for h in matched:
        detector.observe(1, [h], matched=True)
    matched_us = (time.process_time() - t) / len(matched) * 1e6
    view = View.of(ApiKey(1, "k", "p", ("match",)))
    match = [Match("b", "e1", "pdq", 3, {"category": "A", "note": "n", "extra": {"u": "x"}})]
    fields = {"b": ("category", "severity")}
    t = time.process_time()
    for _ in range(20_000):
        matches_shown(match, view, fields)
    shape_us = (time.process_time() - t) / 20_000 * 1e6
    request_us = 1e6 / b_rate
    print(
        f"added work: detector {clean_us:.1f} us (clean), {matched_us:.1f} us (matched); "
        f"shaping one match {shape_us:.1f} us; a whole clean request of b {request_us:.0f} us"
    )


if __name__ == "__main__":
    main()
