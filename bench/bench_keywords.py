"""Benchmark keyword matching through obfuscation, against a naive peer measured in the same run.

Usage::

    python bench/bench_keywords.py [--rules 10000] [--messages 20000] [--planted 0.3]
        [--repeats 5] [--seed 7] [--json out.json]

Rules: ``--rules`` made-up pronounceable words (3 to 5 syllables drawn from a fixed syllable
set, so none is a real word; any whose normalised form occurs in the corpus vocabulary is
redrawn), 60% ``word``, 20% ``substring``, 20% ``squeezed`` mode.

Messages: ``--messages`` chat messages of about 100 characters made from phrases in English,
German, French, Spanish, Russian, Arabic, Chinese, Japanese and Hindi, with emoji, links,
mentions, numbers and prices mixed in. A share ``--planted`` of them gets one rule's term,
written with one obfuscation kind (plain, case, accents, combining marks, zero-width,
full-width, Cyrillic or Greek look-alikes, leetspeak, mixed; and for squeezed rules also
spaced and punctuated), planted between two words.

Figures:

* build: parsing the rules (``KeywordRule``) and ``KeywordMatcher.build``, median of runs;
  import: importing ``hashguard.text.keywords`` in a fresh interpreter (tables built there);
* throughput: messages per second on one core (one thread, the whole corpus through
  ``find``), median of ``--repeats`` runs; latency p50 / p99 / max of single ``find`` calls.
  Also for the clean messages alone (real traffic is almost all clean; a hit costs more,
  since only then are offsets mapped back) and for ``normalize`` alone;
* recall per obfuscation kind: planted messages where the planted rule is reported with a
  span that is exactly the planted text;
* false positives: hits in messages where nothing was planted (there should be none);
* a 1 MB message: time of one ``find``.

The peer ("naive") is what a filter without normalisation does: ``casefold`` the message and
scan it with one Aho-Corasick automaton of the casefolded terms, any position. Its recall
shows what the normalisation buys; its speed what it costs.

Run it alone on the machine: ``flock /tmp/hashguard-bench.lock python bench/bench_keywords.py``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import subprocess
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import ahocorasick
from keyword_corpus import (
    EXTRAS,
    PHRASES,
    make_corpus,
    make_rules,
)
from keyword_forms import (
    KINDS,
    SQUEEZED_KINDS,
)

from hashguard.text.keywords import KeywordMatcher, KeywordRule
from hashguard.text.normalize import normalize

# --- measuring ---------------------------------------------------------------------------


def naive_peer(rules: list[tuple[int, KeywordRule]]) -> Callable[[str], list[tuple[int, int, int]]]:
    automaton = ahocorasick.Automaton()
    for key, rule in rules:
        term = rule.term.casefold()
        if term not in automaton:
            automaton.add_word(term, (len(term), key))
    automaton.make_automaton()

    def find(text: str) -> list[tuple[int, int, int]]:
        return [
            (key, end + 1 - length, end + 1)
            for end, (length, key) in automaton.iter(text.casefold())
        ]

    return find


def throughput(find: Callable[[str], Any], texts: list[str], repeats: int) -> dict[str, Any]:
    for text in texts[:200]:
        find(text)
    rates: list[float] = []
    for _ in range(repeats):
        started = time.perf_counter()
        for text in texts:
            find(text)
        rates.append(len(texts) / (time.perf_counter() - started))
    latencies: list[int] = []
    clock = time.perf_counter_ns
    for text in texts:
        started_ns = clock()
        find(text)
        latencies.append(clock() - started_ns)
    latencies.sort()
    return {
        "messages_per_s": statistics.median(rates),
        "messages_per_s_runs": rates,
        "p50_us": latencies[len(latencies) // 2] / 1e3,
        "p99_us": latencies[int(len(latencies) * 0.99)] / 1e3,
        "max_us": latencies[-1] / 1e3,
    }


def import_time() -> float:
    code = (
        "import time; t = time.perf_counter(); import hashguard.text.keywords; "
        "print(time.perf_counter() - t)"
    )
    runs = [
        float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(3)
    ]
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--planted", type=float, default=0.3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    vocabulary = " ".join(
        normalize(" ".join([*phrases, *EXTRAS])).letters for phrases in PHRASES.values()
    )
    vocabulary += normalize(vocabulary).squeezed
    rules = make_rules(args.rules, rng, vocabulary)
    terms = [(rule.term, rule.mode) for _, rule in rules]
    print(f"{len(rules)} rules: {dict(Counter(m.value for _, m in terms))}", file=sys.stderr)

    parse_runs, build_runs = [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        parsed = [(key, KeywordRule(term, mode)) for key, (term, mode) in enumerate(terms)]
        parse_runs.append(time.perf_counter() - started)
        started = time.perf_counter()
        matcher = KeywordMatcher.build(parsed)
        build_runs.append(time.perf_counter() - started)

    corpus = make_corpus(args.messages, args.planted, rules, rng)
    texts = [m.text for m in corpus]
    mean_length = statistics.mean(len(t) for t in texts)
    print(f"{len(texts)} messages, mean {mean_length:.0f} characters", file=sys.stderr)

    peer = naive_peer(rules)
    ours_speed = throughput(matcher.find, texts, args.repeats)
    clean_speed = throughput(matcher.find, [m.text for m in corpus if m.key is None], args.repeats)
    peer_speed = throughput(peer, texts, args.repeats)
    normalize_speed = throughput(normalize, texts, args.repeats)

    recall: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # planted, ours, naive
    false_positives = {"ours": 0, "naive": 0}
    clean = 0
    for message in corpus:
        hits = matcher.find(message.text)
        naive = peer(message.text)
        if message.key is None:
            clean += 1
            false_positives["ours"] += len(hits)
            false_positives["naive"] += len(naive)
            continue
        assert message.kind is not None
        counts = recall[message.kind]
        counts[0] += 1
        if any(
            h.key == message.key and message.text[h.start : h.end] == message.planted for h in hits
        ):
            counts[1] += 1
        if any(key == message.key for key, _, _ in naive):
            counts[2] += 1

    big = "the quick brown fox jumps over the lazy dog \u043f\u0440\u0438\u0432\u0435\u0442 "
    big += "\U0001f600 "
    big = big * (1_000_000 // len(big)) + "end"
    started = time.perf_counter()
    matcher.find(big)
    megabyte_s = time.perf_counter() - started

    results = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "pyahocorasick": version("pyahocorasick"),
        "confusable-homoglyphs": version("confusable-homoglyphs"),
        "unicodedata": unicodedata.unidata_version,
        "rules": len(rules),
        "messages": len(texts),
        "mean_message_chars": mean_length,
        "import_s": import_time(),
        "parse_rules_s": statistics.median(parse_runs),
        "build_s": statistics.median(build_runs),
        "ours": ours_speed,
        "ours_clean_only": clean_speed,
        "naive": peer_speed,
        "normalize_only": normalize_speed,
        "recall": {k: {"planted": v[0], "ours": v[1], "naive": v[2]} for k, v in recall.items()},
        "clean_messages": clean,
        "false_positive_hits": false_positives,
        "one_megabyte_find_s": megabyte_s,
    }

    print(
        f"rules {len(rules)}, messages {len(texts)} (mean {mean_length:.0f} chars), {clean} clean"
    )
    print(f"import hashguard.text.keywords: {results['import_s'] * 1e3:.0f} ms (tables built)")
    print(
        f"parse {len(rules)} rules: {results['parse_rules_s'] * 1e3:.0f} ms, "
        f"build matcher: {results['build_s'] * 1e3:.0f} ms (median of {args.repeats})"
    )
    print()
    print(f"{'':16} {'msgs/s/core':>12} {'p50 us':>8} {'p99 us':>8} {'max us':>8}")
    for name, speed in [
        ("ours find", ours_speed),
        ("ours, clean only", clean_speed),
        ("normalize only", normalize_speed),
        ("naive", peer_speed),
    ]:
        print(
            f"{name:16} {speed['messages_per_s']:12,.0f} {speed['p50_us']:8.1f} "
            f"{speed['p99_us']:8.1f} {speed['max_us']:8.1f}"
        )
    ratio = ours_speed["messages_per_s"] / peer_speed["messages_per_s"]
    print(f"ours / naive throughput: {ratio:.2f}")
    print()
    print(f"{'kind':14} {'planted':>8} {'ours':>8} {'naive':>8}")
    total = [0, 0, 0]
    for kind in [*KINDS, *SQUEEZED_KINDS]:
        planted, ours, naive_found = recall.get(kind, [0, 0, 0])
        total = [total[0] + planted, total[1] + ours, total[2] + naive_found]
        if planted:
            print(f"{kind:14} {planted:8} {ours / planted:8.1%} {naive_found / planted:8.1%}")
    print(f"{'all':14} {total[0]:8} {total[1] / total[0]:8.1%} {total[2] / total[0]:8.1%}")
    print()
    print(
        f"false positive hits in {clean} clean messages: ours {false_positives['ours']}, "
        f"naive {false_positives['naive']}"
    )
    print(f"one 1 MB message: {megabyte_s * 1e3:.0f} ms")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
