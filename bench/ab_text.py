"""Text matching, two versions of hashguard side by side: the ratio of their speeds on this
machine, measured in interleaved slices so that both see the same noise.

Usage::

    git worktree add /tmp/base <commit>
    flock /tmp/hashguard-bench.lock python bench/ab_text.py --a /tmp/base/src --b src
        [--urls 200000] [--rounds 8] [--chunk 250] [--seed 11]

Lists and messages are bench_text's (``--urls`` URL rows, 10,000 hashed URL rows and
10,000 keywords; 20,000 typical and 5,000 link-heavy messages, 10% planted), imported once
into a SQLite store by the installed version. One process per version (``PYTHONPATH`` set
to its source directory; each builds its own index snapshot) loads the engine, calls
``gc.freeze()`` when that version's ``serve`` does and matches every message once to warm
up. Then, round after round, both processes are handed the same slices of ``--chunk``
messages of each group (a mix's messages, its clean ones, its planted ones), in turn, in
random order, and time ``Engine.match_text`` over each slice (``time.process_time``); only
one of them runs at a time, and both are pinned to the same core. The speed of these shared
2-core machines drifts by tens of percent within seconds; slices of a few milliseconds taken
in turn on one core see the same drift (unpinned, the per-round ratios of one comparison
spread over 1.03-1.42; pinned, 1.19-1.24).
Printed: per group, the median messages/s of each version over the rounds, the median of
the per-round ratios b/a and their range.
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _harness import store_for
from keyword_corpus import make_rules
from text_lists import Names, write_keyword_list, write_url_list
from text_measure import timed_import
from text_messages import Forms, Planter, make_corpora, vocabulary

from hashguard.store.store import Store
from hashguard.text.keywords import KeywordMode

CHILD = """
import gc, os, pickle, sys, time
from pathlib import Path
os.sched_setaffinity(0, {int(os.environ["AB_CPU"])})
import importlib.util
if importlib.util.find_spec("hashguard.plugins") is None:
    # A version from before issue 11 registers its built-in signal types by hand, then the
    # installed (newer) package's entry points would register them twice: skip those.
    import hashguard.signals.registry as _registry
    _registry.entry_points = lambda group: []
from hashguard.api import server
from hashguard.engine import Engine
from hashguard.store.store import Store
db, corpora_path, index_dir = sys.argv[1:4]
corpora = pickle.loads(Path(corpora_path).read_bytes())
engine = Engine(Store(db, create=False), index_dir=Path(index_dir))
if "freeze_loaded" in server.ServeOptions.__dataclass_fields__:
    gc.freeze()
groups = {}
for mix, messages in corpora.items():
    groups[f"{mix} all"] = [t for t, _ in messages]
    groups[f"{mix} clean"] = [t for t, p in messages if not p]
    groups[f"{mix} planted"] = [t for t, p in messages if p]
    for t, _ in messages:
        engine.match_text(t)
print("ready", flush=True)
for line in sys.stdin:
    name, start, end = line.rsplit(" ", 2)
    texts = groups[name][int(start) : int(end)]
    started = time.process_time()
    for t in texts:
        engine.match_text(t)
    print(time.process_time() - started, flush=True)
"""


def _start(
    source: Path, db: str, corpora: Path, index_dir: Path, cpu: int
) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db, str(corpora), str(index_dir)],
        env={**os.environ, "PYTHONPATH": str(source.resolve()), "AB_CPU": str(cpu)},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdout is not None
    if child.stdout.readline().strip() != "ready":
        raise SystemExit(f"the version in {source} did not start")
    return child


def _time(child: subprocess.Popen[str], name: str, start: int, end: int) -> float:
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(f"{name} {start} {end}\n")
    child.stdin.flush()
    return float(child.stdout.readline())


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--a", type=Path, required=True, help="source directory of version a")
    parser.add_argument("--b", type=Path, required=True, help="source directory of version b")
    parser.add_argument("--urls", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--chunk", type=int, default=250, help="messages per slice")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hg-ab-text-") as tmp:
        root = Path(tmp)
        rng = random.Random(args.seed)
        with open(root / "urls.csv", "w", encoding="utf-8") as out:
            urls = write_url_list(out, args.urls, 10_000, rng)
        rules = make_rules(10_000, rng, vocabulary())
        with open(root / "keywords.csv", "w", encoding="utf-8") as out:
            write_keyword_list(out, rules, rng)
        db = f"sqlite:///{root}/ab.db"
        store = Store(db)
        for bank, path in (("urls", "urls.csv"), ("keywords", "keywords.csv")):
            store.create_bank(bank)
            timed_import(store, bank, root / path)
        store.close()
        planter = Planter(
            random.Random(args.seed + 2),
            Names(random.Random(args.seed + 3)),
            urls,
            rules,
            [r for r in rules if r[1].mode is KeywordMode.SQUEEZED],
            Forms.of(rules),
        )
        corpus_args = argparse.Namespace(
            typical=20_000, link_heavy=5_000, planted=0.1, seed=args.seed
        )
        corpora = {
            mix: [(m.text, bool(m.plants)) for m in messages]
            for mix, messages in make_corpora(corpus_args, planter).items()
        }
        (root / "corpora.pkl").write_bytes(pickle.dumps(corpora))
        sizes = {}
        for mix, messages in corpora.items():
            sizes[f"{mix} all"] = len(messages)
            sizes[f"{mix} clean"] = sum(1 for _, planted in messages if not planted)
            sizes[f"{mix} planted"] = sum(1 for _, planted in messages if planted)
        cpu = max(os.sched_getaffinity(0))  # both on one core, in turn: see the docstring
        children = {}
        for side, source in (("a", args.a), ("b", args.b)):
            side_db = store_for(source, root / "ab.db")
            index_dir = root / f"idx-{side}"
            children[side] = _start(source, side_db, root / "corpora.pkl", index_dir, cpu)
        runs: dict[str, list[dict[str, float]]] = {"a": [], "b": []}
        for round_number in range(args.rounds):
            seconds = {side: dict.fromkeys(sizes, 0.0) for side in children}
            for name, size in sizes.items():
                for start in range(0, size, args.chunk):
                    end = min(start + args.chunk, size)
                    for side in rng.sample(sorted(children), 2):
                        seconds[side][name] += _time(children[side], name, start, end)
            for side in children:
                runs[side].append({k: sizes[k] / v for k, v in seconds[side].items()})
            print(f"round {round_number + 1}/{args.rounds} done", flush=True)
        for child in children.values():
            assert child.stdin is not None
            child.stdin.close()
            child.wait()
    print(f"\n{'mix':24} {'a msgs/s':>10} {'b msgs/s':>10} {'b/a':>6} {'rounds b/a':>12}")
    for key in runs["a"][0]:
        a = statistics.median(r[key] for r in runs["a"])
        b = statistics.median(r[key] for r in runs["b"])
        ratios = [rb[key] / ra[key] for ra, rb in zip(*runs.values(), strict=True)]
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
        print(f"{key:24} {a:10,.0f} {b:10,.0f} {statistics.median(ratios):6.2f} {spread:>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
