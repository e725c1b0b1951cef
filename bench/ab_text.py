"""Text matching, two versions of hashguard side by side: the ratio of their speeds on this
machine, measured in alternating rounds so that both see the same noise.

Usage::

    git worktree add /tmp/base <commit>
    flock /tmp/hashguard-bench.lock python bench/ab_text.py --a /tmp/base/src --b src
        [--urls 200000] [--rounds 8] [--seed 11]

Lists and messages are ``bench_text``'s (``--urls`` URL rows, 10,000 hashed URL rows and
10,000 keywords; 20,000 typical and 5,000 link-heavy messages, 10% planted), imported once
into a SQLite store by the installed version. Each round runs one fresh process per version
(``PYTHONPATH`` set to its source directory; each builds its own index snapshot once),
which loads the engine, calls ``gc.freeze()`` when that version's ``serve`` does, matches
every message once to warm up, then times ``Engine.match_text`` over each mix
(``time.process_time``). Printed: per mix, the median messages/s of each version over the
rounds and the median of the per-round ratios b/a.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import bench_text as bt

from hashguard.store.store import Store
from hashguard.text.keywords import KeywordMode

CHILD = """
import gc, json, pickle, sys, time
from pathlib import Path
from hashguard.api import server
from hashguard.engine import Engine
from hashguard.store.store import Store
db, corpora_path, index_dir = sys.argv[1:4]
corpora = pickle.loads(Path(corpora_path).read_bytes())
engine = Engine(Store(db, create=False), index_dir=Path(index_dir))
if "freeze_loaded" in server.ServeOptions.__dataclass_fields__:
    gc.freeze()
out = {}
for mix, messages in corpora.items():
    groups = {"all": [t for t, _ in messages], "clean": [t for t, p in messages if not p],
              "planted": [t for t, p in messages if p]}
    for t in groups["all"]:
        engine.match_text(t)
    for name, texts in groups.items():
        started = time.process_time()
        for t in texts:
            engine.match_text(t)
        out[f"{mix} {name}"] = len(texts) / (time.process_time() - started)
print(json.dumps(out))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--a", type=Path, required=True, help="source directory of version a")
    parser.add_argument("--b", type=Path, required=True, help="source directory of version b")
    parser.add_argument("--urls", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hg-ab-text-") as tmp:
        root = Path(tmp)
        rng = random.Random(args.seed)
        with open(root / "urls.csv", "w", encoding="utf-8") as out:
            urls = bt.write_url_list(out, args.urls, 10_000, rng)
        rules = bt.make_rules(10_000, rng, bt.vocabulary())
        with open(root / "keywords.csv", "w", encoding="utf-8") as out:
            bt.write_keyword_list(out, rules, rng)
        db = f"sqlite:///{root}/ab.db"
        store = Store(db)
        for bank, path in (("urls", "urls.csv"), ("keywords", "keywords.csv")):
            store.create_bank(bank)
            bt.timed_import(store, bank, root / path)
        store.close()
        planter = bt.Planter(
            random.Random(args.seed + 2),
            bt.Names(random.Random(args.seed + 3)),
            urls,
            rules,
            [r for r in rules if r[1].mode is KeywordMode.SQUEEZED],
            bt.Forms.of(rules),
        )
        corpus_args = argparse.Namespace(
            typical=20_000, link_heavy=5_000, planted=0.1, seed=args.seed
        )
        corpora = {
            mix: [(m.text, bool(m.plants)) for m in messages]
            for mix, messages in bt.make_corpora(corpus_args, planter).items()
        }
        (root / "corpora.pkl").write_bytes(pickle.dumps(corpora))
        runs: dict[str, list[dict[str, float]]] = {"a": [], "b": []}
        for round_number in range(args.rounds):
            for side in ("a", "b"):
                source = (args.a if side == "a" else args.b).resolve()
                env = {**os.environ, "PYTHONPATH": str(source)}
                done = subprocess.run(
                    [sys.executable, "-c", CHILD, db, str(root / "corpora.pkl"),
                     str(root / f"idx-{side}")],
                    env=env, check=True, capture_output=True, text=True,
                )  # fmt: skip
                runs[side].append(json.loads(done.stdout))
            print(f"round {round_number + 1}/{args.rounds} done", flush=True)
    print(f"\n{'mix':24} {'a msgs/s':>10} {'b msgs/s':>10} {'b/a':>6}")
    for key in runs["a"][0]:
        a = statistics.median(r[key] for r in runs["a"])
        b = statistics.median(r[key] for r in runs["b"])
        ratio = statistics.median(rb[key] / ra[key] for ra, rb in zip(*runs.values(), strict=True))
        print(f"{key:24} {a:10,.0f} {b:10,.0f} {ratio:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
