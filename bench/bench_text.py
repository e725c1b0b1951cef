"""Text matching end to end: a 1M-entry URL list and a 10k-term keyword list, chat messages
through ``Engine.match_text``: messages/s per core, p50/p99, recall per obfuscation kind,
false positives.

Usage::

    flock /tmp/hashguard-bench.lock python bench/bench_text.py [--urls 1000000]
        [--hashed 10000] [--keywords 10000] [--typical 50000] [--link-heavy 20000]
        [--planted 0.1] [--repeats 5] [--seed 11] [--pg postgresql://...] [--json out.json]

The lists are described in text_lists.py, the messages and what is planted in them in
text_messages.py.

Figures: list generation, import, index build from the store (fresh process: time, RSS
growth, peak), snapshot save, snapshot load (fresh process; RSS also with every page of the
memory-mapped index read); then, in this process (indexes from the snapshot),
``engine.match_text`` over each mix (``_cold``: with the in-memory entries forgotten before
each message, so that every hit reads its entries from the store, as the first sighting of
an item does; otherwise entries matched before are reused, as while an item spreads):
messages per CPU second of this process
(``time.process_time``, one thread pinned to one core, so per core; median of ``--repeats``
passes; wall-clock rate too), p50/p99/max per message (``perf_counter_ns``, one pass), for
all messages, the clean ones and the planted ones; the same for ``extract_urls`` alone and
the keyword search alone; recall per kind; false positives with examples. The functions of
a mix are timed side by side, in slices of 250 messages taken in turn (see ``measure``):
timed one after the other, on these machines the typical mix once ran at 14,483/s while its
clean and planted messages alone gave 25,392 and 7,296/s (20,400/s together).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _harness import machine, pg_schema, rss_mb
from keyword_corpus import make_rules
from text_lists import (
    Names,
    check_alphabet,
    write_keyword_list,
    write_url_list,
)
from text_measure import (
    Measured,
    Tally,
    child,
    evaluate,
    measure,
    run_child,
    timed_import,
)
from text_messages import (
    Forms,
    Planter,
    make_corpora,
    vocabulary,
)
from text_report import (
    report,
)

from hashguard.engine import Engine
from hashguard.store.store import Store
from hashguard.text.keywords import KeywordMode
from hashguard.text.urls import extract_urls

HERE = Path(__file__).resolve()
PACKAGES = (
    "numpy", "SQLAlchemy", "pyahocorasick", "confusable-homoglyphs", "idna", "publicsuffixlist",
)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--urls", type=int, default=1_000_000)
    parser.add_argument("--hashed", type=int, default=10_000)
    parser.add_argument("--keywords", type=int, default=10_000)
    parser.add_argument("--typical", type=int, default=50_000)
    parser.add_argument("--link-heavy", type=int, default=20_000)
    parser.add_argument("--planted", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--pg", help="a PostgreSQL URL: use a fresh schema there, not SQLite")
    parser.add_argument(
        "--pg-analyze",
        action="store_true",
        help="run ANALYZE on the entry tables after the import (a workaround: without it the "
        "index build's query may get a quadratic plan; the build is stopped after "
        "--pg-timeout seconds)",
    )
    parser.add_argument("--pg-timeout", type=int, default=120)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", choices=("build", "load"), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--index-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.db, args.index_dir)))
        return 0
    check_alphabet()
    with tempfile.TemporaryDirectory(prefix="hg-bench-text-") as tmp:
        if not args.pg:
            return run(args, Path(tmp), f"sqlite:///{tmp}/bench.db")
        with pg_schema(args.pg) as url:
            return run(args, Path(tmp), url)


def run(args: argparse.Namespace, tmp: Path, db: str) -> int:
    rng = random.Random(args.seed)
    results: dict[str, Any] = {
        "machine": machine(PACKAGES),
        "args": {
            k: v for k, v in vars(args).items() if k not in ("child", "db", "index_dir", "json")
        },
    }
    results["args"]["database"] = "postgresql" if args.pg else "sqlite"

    print("generating lists...", flush=True)
    started = time.perf_counter()
    url_path, keyword_path = tmp / "urls.csv", tmp / "keywords.csv"
    with open(url_path, "w", encoding="utf-8") as out:
        urls = write_url_list(out, args.urls, args.hashed, rng)
    vocab = vocabulary()
    rules = make_rules(args.keywords, rng, vocab)
    with open(keyword_path, "w", encoding="utf-8") as out:
        write_keyword_list(out, rules, rng)
    results["generate_s"] = time.perf_counter() - started
    results["url_rows"] = dict(urls.counts)
    results["keyword_rules"] = dict(Counter(r.mode.value for _, r in rules))
    print(f"  {urls.rows:,} URL rows {dict(urls.counts)}", flush=True)
    print(f"  {len(rules):,} keyword rules {results['keyword_rules']}", flush=True)

    print("importing...", flush=True)
    store = Store(db)
    store.create_bank("urls")
    store.create_bank("keywords")
    results["import_urls_s"] = timed_import(store, "urls", url_path)
    results["import_keywords_s"] = timed_import(store, "keywords", keyword_path)
    if not args.pg:
        results["db_mb"] = sum(f.stat().st_size for f in tmp.glob("bench.db*")) / 2**20
    index_dir = tmp / "idx"
    print("building indexes (fresh process)...", flush=True)
    build_db = db
    if args.pg:
        if args.pg_analyze:
            started = time.perf_counter()
            with store.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE hg_entries")
                conn.exec_driver_sql("ANALYZE hg_entry_signals")
            results["pg_analyze_s"] = time.perf_counter() - started
            print(f"  ANALYZE hg_entries, hg_entry_signals: {results['pg_analyze_s']:.1f} s")
        else:  # a bad plan fails the build instead of running for hours
            build_db = f"{db}%20-cstatement_timeout%3D{args.pg_timeout * 1000}"
    results["build"] = run_child("build", build_db, index_dir)
    print(f"  {results['build']}", flush=True)
    print("loading the snapshot (fresh process)...", flush=True)
    results["load"] = run_child("load", db, index_dir)
    print(f"  {results['load']}", flush=True)
    engine = Engine(store, index_dir=index_dir)
    gc.freeze()  # as `hashguard serve`'s workers do once the indexes are loaded
    # one core for every figure: a process that moves between cores loses its caches
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    results["cpu"] = cpu

    print("generating messages...", flush=True)
    planter = Planter(
        random.Random(args.seed + 2),
        Names(random.Random(args.seed + 3)),
        urls,
        rules,
        [r for r in rules if r[1].mode is KeywordMode.SQUEEZED],
        Forms.of(rules),
    )
    corpora = make_corpora(args, planter)

    def cold(text: str) -> object:
        engine.indexes.entries.clear()  # as if no entry had matched before: hits read the store
        return engine.match_text(text)

    tally = Tally()
    results["mixes"] = {}
    for mix, messages in corpora.items():
        texts = [m.text for m in messages]
        clean = [m.text for m in messages if not m.plants]
        planted = [m.text for m in messages if m.plants]
        print(f"measuring {mix}: {len(texts):,} messages...", flush=True)
        evaluate(engine, messages, tally)

        def keywords(text):
            return engine.indexes.search_keys("keyword", [text])

        warm: Measured = {
            "match_text": (engine.match_text, texts),
            "match_text_clean": (engine.match_text, clean),
            "match_text_planted": (engine.match_text, planted),
            "extract_urls": (extract_urls, texts),
            "keywords": (keywords, texts),
        }
        # apart: forgetting the entries would make the others read them again
        cold_runs: Measured = {
            "match_text_cold": (cold, texts),
            "match_text_planted_cold": (cold, planted),
        }
        results["mixes"][mix] = {
            "messages": len(texts),
            "clean": len(clean),
            "mean_chars": statistics.mean(len(t) for t in texts),
            "urls_found": sum(len(extract_urls(t)) for t in texts),
            **measure(warm, args.repeats),
            **measure(cold_runs, args.repeats),
        }
    results["recall"] = {
        kind: {
            "planted": tally.planted[kind],
            "found": tally.found[kind],
            "exact_span": tally.exact[kind],
            "goal": tally.goal[kind],
            "misses": tally.misses.get(kind, []),
        }
        for kind in sorted(tally.planted)
    }
    results["clean_messages"] = tally.clean
    results["false_positive_messages"] = len(tally.false_positives)
    results["false_positives"] = tally.false_positives[:50]
    results["benign_near_misses"] = {
        k: {"messages": v, "false_positive_messages": tally.benign_fp[k]}
        for k, v in sorted(tally.benign_kinds.items())
    }
    results["extra_matches_in_planted"] = len(tally.extra)
    results["extra_examples"] = tally.extra[:20]
    results["rss_now_mb"], results["rss_peak_mb"] = rss_mb()
    store.close()
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
