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
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import ahocorasick

from hashguard.text.keywords import KeywordMatcher, KeywordMode, KeywordRule
from hashguard.text.normalize import normalize

# --- corpus ------------------------------------------------------------------------------

PHRASES = {
    "en": [
        "hey are you coming tonight",
        "bring some snacks for the party",
        "the meeting moved to thursday afternoon",
        "did you see the game last night",
        "my train is running late again",
        "can you send me the photos from the trip",
        "happy birthday have a great day",
        "lol that was hilarious",
        "see you at the station in ten minutes",
        "the weather is lovely today",
    ],
    "de": [
        "ich habe heute keine zeit",
        "vielleicht morgen nach der arbeit",
        "sch\u00f6ne gr\u00fc\u00dfe aus m\u00fcnchen",
        "die stra\u00dfenbahn f\u00e4hrt um sieben",
        "wir treffen uns am bahnhof",
    ],
    "fr": [
        "on se voit demain soir",
        "j'ai oubli\u00e9 mon t\u00e9l\u00e9phone \u00e0 la maison",
        "\u00e7a marche, \u00e0 plus tard",
        "le caf\u00e9 est ferm\u00e9 aujourd'hui",
    ],
    "es": [
        "nos vemos ma\u00f1ana en la playa",
        "\u00bfqu\u00e9 tal el examen?",
        "la reuni\u00f3n es a las cinco",
    ],
    "ru": [
        "\u043f\u0440\u0438\u0432\u0435\u0442, \u043a\u0430\u043a \u0434\u0435\u043b\u0430",
        "\u0443\u0432\u0438\u0434\u0438\u043c\u0441\u044f \u0437\u0430\u0432\u0442\u0440\u0430 "
        "\u0443 \u043c\u0435\u0442\u0440\u043e",
        "\u043d\u0435 \u0437\u0430\u0431\u0443\u0434\u044c \u043a\u0443\u043f\u0438\u0442\u044c "
        "\u0445\u043b\u0435\u0431",
        "\u0441\u043f\u0430\u0441\u0438\u0431\u043e \u0437\u0430 "
        "\u043f\u043e\u043c\u043e\u0449\u044c",
    ],
    "ar": [
        "\u0645\u0631\u062d\u0628\u0627 \u0643\u064a\u0641 \u062d\u0627\u0644\u0643",
        "\u0623\u0631\u0627\u0643 \u063a\u062f\u0627 \u0625\u0646 \u0634\u0627\u0621 "
        "\u0627\u0644\u0644\u0647",
        "\u0634\u0643\u0631\u0627 \u062c\u0632\u064a\u0644\u0627",
    ],
    "zh": [
        "\u4f60\u597d\uff0c\u660e\u5929\u89c1",
        "\u6211\u4eec\u53bb\u516c\u56ed\u5427",
        "\u4eca\u5929\u5929\u6c14\u5f88\u597d",
    ],
    "ja": [
        "\u3053\u3093\u306b\u3061\u306f\u3001\u5143\u6c17\u3067\u3059\u304b",
        "\u307e\u305f\u660e\u65e5\u306d",
    ],
    "hi": [
        "\u0928\u092e\u0938\u094d\u0924\u0947, \u0906\u092a \u0915\u0948\u0938\u0947 "
        "\u0939\u0948\u0902",
        "\u0915\u0932 \u092e\u093f\u0932\u0924\u0947 \u0939\u0948\u0902",
    ],
}
EMOJI = [
    "\U0001f600",
    "\U0001f602",
    "\u2764\ufe0f",
    "\U0001f44d\U0001f3fd",
    "\U0001f389",
    "\U0001f525",
]
EXTRAS = [
    "https://example.com/watch?v=42&t=7s",
    "www.example.org/news/2024/story.html",
    "@sam_99",
    "#weekend",
    "$5.99",
    "10:30",
    "+44 20 7946 0000",
    "3x",
    "l33t h4x0r jk",
    "!!!",
    "...",
    "\U0001f1e9\U0001f1ea",
]

# --- rules -------------------------------------------------------------------------------

ONSETS = ["b", "d", "f", "g", "k", "m", "n", "p", "r", "s", "t", "v", "z", "br", "kr", "pl", "st"]
VOWELS = ["a", "e", "i", "o", "u", "ao", "ei"]
CODAS = ["", "", "", "n", "r", "x", "s", "l"]
MODES = [KeywordMode.WORD] * 3 + [KeywordMode.SUBSTRING, KeywordMode.SQUEEZED]


def made_up_word(rng: random.Random) -> str:
    syllables = rng.randint(3, 5)
    return "".join(
        rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(syllables)
    )


def make_rules(n: int, rng: random.Random, vocabulary: str) -> list[tuple[int, KeywordRule]]:
    seen: set[str] = set()
    rules: list[tuple[int, KeywordRule]] = []
    while len(rules) < n:
        term = made_up_word(rng)
        rule = KeywordRule(term, rng.choice(MODES))
        if rule.letters in seen or rule.letters in vocabulary or rule.squeezed in vocabulary:
            continue
        seen.add(rule.letters)
        rules.append((len(rules), rule))
    return rules


# --- obfuscations ------------------------------------------------------------------------

ACCENTED = {
    "a": "\u00e1\u00e0\u00e2\u00e4\u00e3\u00e5",
    "e": "\u00e9\u00e8\u00ea\u00eb",
    "i": "\u00ed\u00ec\u00ee\u00ef",
    "o": "\u00f3\u00f2\u00f4\u00f6\u00f5",
    "u": "\u00fa\u00f9\u00fb\u00fc",
    "n": "\u00f1",
    "c": "\u00e7",
    "z": "\u017e\u017a",
    "s": "\u0161\u015b",
}
CYRILLIC = {
    "a": "\u0430",
    "e": "\u0435",
    "o": "\u043e",
    "p": "\u0440",
    "c": "\u0441",
    "x": "\u0445",
    "y": "\u0443",
    "i": "\u0456",
    "j": "\u0458",
    "s": "\u0455",
    "h": "\u04bb",
    "d": "\u0501",
    "b": "\u0412",
    "k": "\u041a",
    "m": "\u041c",
    "t": "\u0422",
    "r": "\u0433",
}
GREEK = {
    "a": "\u03b1",
    "o": "\u03bf",
    "p": "\u03c1",
    "i": "\u03b9",
    "u": "\u03c5",
    "v": "\u03bd",
    "y": "\u03b3",
    "b": "\u0392",
    "e": "\u0395",
    "z": "\u0396",
    "h": "\u0397",
    "k": "\u039a",
    "m": "\u039c",
    "n": "\u039d",
    "t": "\u03a4",
    "x": "\u03a7",
}
LEET = {"a": "4@", "e": "3", "i": "1", "l": "1", "o": "0", "s": "5$", "t": "7"}
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
COMBINING = [chr(c) for c in range(0x300, 0x370)]
SEPARATORS = ".-_*/ "


def _each(term: str, rng: random.Random, table: dict[str, str], share: float) -> str:
    return "".join(rng.choice(table[c]) if c in table and rng.random() < share else c for c in term)


def case(term: str, rng: random.Random) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c for c in term)


def accents(term: str, rng: random.Random) -> str:
    return _each(term, rng, ACCENTED, 0.7)


def combining(term: str, rng: random.Random) -> str:
    return "".join(c + "".join(rng.sample(COMBINING, rng.randint(0, 2))) for c in term)


def zero_width(term: str, rng: random.Random) -> str:
    chars = list(term)
    for _ in range(rng.randint(1, 3)):
        chars.insert(rng.randint(1, len(chars) - 1), rng.choice(ZERO_WIDTH))
    return "".join(chars)


def full_width(term: str, rng: random.Random) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalpha() else c for c in term)


def cyrillic(term: str, rng: random.Random) -> str:
    return _each(term, rng, CYRILLIC, 0.8)


def greek(term: str, rng: random.Random) -> str:
    return _each(term, rng, GREEK, 0.8)


def leet(term: str, rng: random.Random) -> str:
    return _each(term, rng, LEET, 0.7)


def spaced(term: str, rng: random.Random) -> str:
    return " ".join(term)


def punctuated(term: str, rng: random.Random) -> str:
    out = term[0]
    for c in term[1:]:
        out += rng.choice(SEPARATORS) + c
    return out


MIXABLE = [case, leet, accents, cyrillic, greek, full_width]


def mixed(term: str, rng: random.Random) -> str:
    """Three of the character kinds, case first: a look-alike is never re-cased afterwards
    (capital upsilon looks like "Y", not like the "u" its small form stands for)."""
    steps = sorted(rng.sample(range(len(MIXABLE)), 3))
    for step in steps:
        term = MIXABLE[step](term, rng)
    return zero_width(term, rng) if len(term) > 1 else term


def mixed_squeezed(term: str, rng: random.Random) -> str:
    return rng.choice([spaced, punctuated])(mixed(term, rng), rng)


Obfuscation = Callable[[str, random.Random], str]
KINDS: dict[str, Obfuscation] = {
    "plain": lambda term, rng: term,
    "case": case,
    "accents": accents,
    "combining": combining,
    "zero-width": zero_width,
    "full-width": full_width,
    "cyrillic": cyrillic,
    "greek": greek,
    "leet": leet,
    "mixed": mixed,
}
SQUEEZED_KINDS: dict[str, Obfuscation] = {
    "spaced": spaced,
    "punctuated": punctuated,
    "mixed+spaced": mixed_squeezed,
}


@dataclass(frozen=True)
class Message:
    text: str
    key: int | None = None  # the planted rule
    kind: str | None = None
    planted: str | None = None  # the planted text, as written


def make_message(rng: random.Random) -> list[str]:
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < 90:
        pick = rng.random()
        if pick < 0.7:
            language = rng.choice(list(PHRASES))
            words.extend(rng.choice(PHRASES[language]).split(" "))
        elif pick < 0.85:
            words.append(rng.choice(EMOJI))
        else:
            words.append(rng.choice(EXTRAS))
    return words


def make_corpus(
    n: int, planted: float, rules: list[tuple[int, KeywordRule]], rng: random.Random
) -> list[Message]:
    corpus: list[Message] = []
    for _ in range(n):
        words = make_message(rng)
        if rng.random() >= planted:
            corpus.append(Message(" ".join(words)))
            continue
        key, rule = rng.choice(rules)
        kinds = dict(KINDS)
        if rule.mode is KeywordMode.SQUEEZED:
            kinds.update(SQUEEZED_KINDS)
        kind = rng.choice(list(kinds))
        written = kinds[kind](rule.term, rng)
        at = rng.randint(0, len(words))
        text = " ".join([*words[:at], written, *words[at:]])
        corpus.append(Message(text, key, kind, written))
    return corpus


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
