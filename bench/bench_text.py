"""Text matching end to end: a 1M-entry URL list and a 10k-term keyword list, chat messages
through ``Engine.match_text``: messages/s per core, p50/p99, recall per obfuscation kind,
false positives.

Usage::

    flock /tmp/hashguard-bench.lock python bench/bench_text.py [--urls 1000000]
        [--hashed 10000] [--keywords 10000] [--typical 50000] [--link-heavy 20000]
        [--planted 0.1] [--repeats 5] [--seed 11] [--pg postgresql://...] [--json out.json]

Lists (written as CSV to a temporary directory and imported through the real path,
``Store.import_rows`` with the CSV reader, into a fresh SQLite store there or a fresh
schema of ``--pg``):

* bank ``urls``: ``--urls`` ``url`` rows, ~70% page URLs (``http://host/dir/page.html``,
  several per host), ~20% directory prefixes (``host/dir/``), ~10% domain rules
  (``name.tld``, ``sub.name.tld``, ``*.name.tld``), a few hundred pages on IPv4 hosts of
  the documentation ranges, 2% of the names IDN (Latin with diacritics, or Cyrillic under
  ``.рф`` or ``.ru``; listed in Unicode or punycode); plus ``--hashed`` ``url_sha256`` rows
  (the SHA-256 of page, prefix and domain expressions on other hosts). Names are made up, under real
  top-level domains; every registered name is used by one rule kind only, and host and path
  words are spelled without the consonants of the keyword terms (b d f g k m n p r s t v z;
  digits 5 and 7, which read as s and t), so no list URL contains a keyword;
* bank ``keywords``: ``--keywords`` made-up terms from ``bench_keywords.make_rules`` (60%
  ``word``, written with or without the ``word:`` prefix, 20% ``substring:``, 20%
  ``squeezed:``), none of which occurs in the benign vocabulary below.

Messages (fixed seed), two mixes:

* ``typical`` (``--typical``): half from ``bench_url_extract.corpus("typical")`` (short chat
  lines in twelve languages, emoji, 10% with an example.* link, a fifth of those obfuscated),
  half from ``bench_keywords.make_message`` (about 100 characters of phrases in nine
  languages, emoji, links, mentions, prices); 5% also get a benign link on a made-up host;
* ``link-heavy`` (``--link-heavy``): ``bench_url_extract.corpus("link-heavy")`` (1-3
  example.* links each, a third obfuscated) plus 1-2 benign made-up links each.

Benign made-up links are to unlisted names, or near misses of listed ones: another page or
a sibling directory on a listed host, a listed directory without its slash, the parent or a
sibling of a listed subdomain rule, a listed name under another top-level domain, a listed
name with a digit added. Benign keyword near misses: a ``word`` term inside a longer word,
a ``squeezed`` term spelled out glued to a letter, a ``word`` term spelled letter by letter
inside a longer run of single letters (``q z o r b l a x q``). A share ``--planted`` of
each mix gets one listed item instead, half URLs, half keywords, kind drawn uniformly:

* URL kinds (the docs' table; each applied to a page, prefix or domain entry): plain,
  ``hxxp``, ``[:]//``, ``[.]``, ``(dot)``, `` dot ``, zero-width, full-width, ``。``, no
  scheme, percent-encoding, upper-case host, ``user@``/port, query/fragment added, in
  brackets or Markdown, glued to CJK text, IDN (the listed host is IDN), subdomain of a
  listed domain rule, path under a listed prefix, IPv4 as a number, a hashed (url_sha256)
  entry. Reported apart: a fifth of the zero-width ones use U+061C ARABIC LETTER MARK (a
  direction mark, which the docs' table covers); and, outside the goal, `` dot ``'s
  documented gap (one join before a rare top-level domain, no path or scheme);
* keyword kinds: ``bench_keywords.KINDS`` (plain, case, accents, combining marks, zero-width,
  full-width, Cyrillic, Greek, leetspeak, mixed), for ``squeezed`` terms
  ``bench_keywords.SQUEEZED_KINDS`` (spaced, punctuated, mixed+spaced), and for ``word``
  terms letter by letter (one of `` ``, ``.``, ``-``, ``_``, `` . `` between the letters).

A planted item is found when a match of its entry id covers its span (exact span counted
too). Any match in a message with nothing planted is a false positive; a match in a planted
message of another entry is reported as extra.

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
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from _harness import machine, rss_mb
from bench_keywords import (
    make_rules,
)
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
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f"CREATE SCHEMA {schema}")
            try:
                return run(args, Path(tmp), f"{args.pg}?options=-csearch_path%3D{schema}")
            finally:
                admin.execute(f"DROP SCHEMA {schema} CASCADE")


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


def report(r: dict[str, Any]) -> None:
    m, b, lo = r["machine"], r["build"], r["load"]
    urls, keywords = sum(r["url_rows"].values()), sum(r["keyword_rules"].values())
    lines = [
        f"machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}; {m['platform']}",
        f"database: {r['args']['database']}; {urls:,} URL rows, {keywords:,} keyword rules",
        f"generate lists {r['generate_s']:.1f} s; import URLs {r['import_urls_s']:.1f} s, "
        f"keywords {r['import_keywords_s']:.1f} s",
        f"index build from the store {b['seconds']:.1f} s, "
        f"RSS +{b['rss_after_mb'] - b['rss_before_mb']:.0f} MB ({b['rss_after_mb']:.0f} MB, "
        f"peak {b['peak_mb']:.0f} MB); snapshot save {b['save_seconds'] * 1e3:.0f} ms",
        f"snapshot load {lo['seconds'] * 1e3:.0f} ms, "
        f"RSS +{lo['rss_after_mb'] - lo['rss_before_mb']:.0f} MB ({lo['rss_after_mb']:.0f} MB, "
        f"peak {lo['peak_mb']:.0f} MB; {lo['rss_touched_mb']:.0f} MB with every index page "
        f"read); first match {lo['first_match_s'] * 1e3:.1f} ms",
        "",
        "msgs/CPU-s: messages per CPU second of this process (time.process_time, one thread "
        f"on core {r['cpu']}, so per core), median of {r['args']['repeats']} passes, each "
        "timing the rows of a mix side by side in slices of 250 messages; msgs/wall-s: "
        "perf_counter; p50/p99/max: perf_counter_ns around each call, one pass",
        f"{'mix':11} {'what':23} {'msgs/CPU-s':>11} {'msgs/wall-s':>11} {'p50 us':>8} "
        f"{'p99 us':>8} {'max us':>9}",
    ]
    for mix, figures in r["mixes"].items():
        for what in (
            "match_text",
            "match_text_clean",
            "match_text_planted",
            "match_text_cold",
            "match_text_planted_cold",
            "extract_urls",
            "keywords",
        ):
            s = figures[what]
            lines.append(
                f"{mix:11} {what:23} {s['msgs_per_cpu_s']:11,.0f} {s['msgs_per_wall_s']:11,.0f} "
                f"{s['p50_us']:8.1f} {s['p99_us']:8.1f} {s['max_us']:9.0f}"
            )
        lines.append(
            f"{'':11} ({figures['messages']:,} messages, {figures['clean']:,} clean, mean "
            f"{figures['mean_chars']:.0f} chars, {figures['urls_found']:,} URLs found)"
        )
    lines += ["", f"{'planted kind':48} {'planted':>7} {'found':>7} {'recall':>7} {'exact':>7}"]
    for kind, v in r["recall"].items():
        lines.append(
            f"{kind:48} {v['planted']:7} {v['found']:7} {v['found'] / v['planted']:7.1%} "
            f"{v['exact_span'] / v['planted']:7.1%}{'' if v['goal'] else '  (outside the goal)'}"
        )
    for kind, v in r["recall"].items():
        lines += [
            f"  miss [{kind}] {x['planted']!r} ({x['entry']}); URLs found {x['urls']}"
            for x in v["misses"][:2]
        ]
    lines += [
        "",
        f"false positives: {r['false_positive_messages']} of {r['clean_messages']:,} messages "
        "with nothing planted",
    ]
    for kind, v in r["benign_near_misses"].items():
        lines.append(f"  {kind:58} {v['messages']:6} messages, {v['false_positive_messages']} hit")
    for fp in r["false_positives"][:10]:
        found = [(x["entry"], x.get("matched")) for x in fp["matches"]]
        lines.append(f"  FP {fp['text']!r}: {found}")
    lines.append(f"other entries matched in planted messages: {r['extra_matches_in_planted']}")
    lines += [f"  extra {x['text']!r}: {x['match']}" for x in r["extra_examples"][:5]]
    lines.append(f"this process: RSS {r['rss_now_mb']:.0f} MB, peak {r['rss_peak_mb']:.0f} MB")
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
