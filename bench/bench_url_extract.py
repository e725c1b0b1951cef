"""URL extraction speed: messages/s per core on chat text, and adversarial worst cases.

Measured in one process, as messages per CPU second (so per core), on a corpus of
benign chat messages generated here from a fixed seed: twelve languages, emoji, some
messages with links on RFC 2606 hosts (example.com/.org/.net, *.example, *.test), some of
those obfuscated (``hxxp``, ``[.]``, ``dot``, full-width forms, zero-width spaces).
Two mixes:

- ``typical``: 10% of messages carry a link, a fifth of those obfuscated;
- ``link-heavy``: every message carries 1-3 links, a third of them obfuscated.

For each mix, the median over ``--repeats`` passes of

(a) ``extract_urls(message)`` alone;
(b) a full URL check: ``extract_urls``, then ``expressions(found.canonical)`` and
    ``url_sha256`` of each expression looked up in a set of 10,000 hashed list entries
    (``rule_expression`` of made-up entries, a few of which the corpus links hit);
(c) the floor: a plain ``https?://\\S+`` regex over the message, which finds scheme URLs
    only and undoes nothing; (a)/(c) is printed as the price of everything else.

Then the adversarial inputs (100,000 characters each: ``'a.' * n``, ``'[.]' * n``,
``'http://' * n``, ``'%' * n``, ...) are timed one by one (best of 3) and reported in
milliseconds per KB, with the worst of them.

Run::

    . .venv/bin/activate
    python bench/bench_url_extract.py [--messages 20000] [--repeats 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time
from collections.abc import Callable

from hashguard.text.urls import expressions, extract_urls, rule_expression, url_sha256

TEXTS = [
    "Hey {name}, are you coming to the party tonight?",
    "lol that's so funny {emoji}{emoji}",
    "Can you send me the notes from Monday? Thanks!",
    "I'll be there at 8. {emoji}",
    "Did you see the game yesterday... unbelievable!",
    "ok",
    "Happy birthday {name}!!! {emoji}{emoji}{emoji}",
    "¿Vienes a la fiesta esta noche? {emoji}",
    "Jajaja qué gracioso, te llamo luego.",
    "Kommst du heute Abend? Bis später! {emoji}",
    "Tu viens à la fête ce soir ? Merci beaucoup !",
    "Привет, {name}! Как дела? Увидимся завтра в 3.",
    "今天天气很好\uff0c我们去公园吧。{emoji}",
    "你吃饭了吗\uff1f晚上见\uff01",
    "明日は雨が降るそうです…傘を持ってきてね {emoji}",
    "مرحبا، كيف حالك؟ أراك غدا {emoji}",
    "नमस्ते, आप कैसे हैं? कल मिलते हैं।",
    "내일 만나요! 오늘 정말 재미있었어요 {emoji}",
    "Você vem amanhã? Beijos {emoji}",
    "Yar\u0131n görüşürüz, kendine iyi bak!",
    "meeting moved to 3.30pm, room 2.14 - see you there",
    "The price went up 2.5% again, wow",
]
NAMES = ["Ana", "Ben", "Chloé", "Dmitri", "Emeka", "Fatima", "Guo", "Hana", "Ilse", "Jo"]
EMOJI = ["😂", "👍", "❤️", "🎉", "🙏", "😍", "🔥", "😭", "🤔", "👋🏽", "👨‍👩‍👧"]
LINKS = [
    "https://www.example.com/articles/{n}/summer-recipes?ref=chat",
    "example.org/docs/{word}",
    "sub{n}.example.net",
    "http://shop.example.com/item?id={n}&utm_source=chat",
    "www.example.org/{word}/{word}.html",
    "https://video.example.net/watch?v={n}",
    "(see https://en.example.org/wiki/Page_{n})",
    "news{n}.test/today",
]
OBFUSCATED = [
    "hxxps://files{n}[.]example/x/{word}",
    "bad{n} [dot] example [dot] com/p",
    "www dot host{n} dot example dot org",
    "h**p://ex{n}.example.net/a",
    "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d\uff0f{word}",
    "exa\u200bmple{n}.com/{word}",
    "hxxp[:]//host{n}.example(.)com/{word}",
]
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]

ADVERSARIAL = {
    "'a.' * n": "a." * 50_000,
    "'ab.' * n": "ab." * 33_334,
    "'[.]' * n": "[.]" * 33_334,
    "'a[.]' * n": "a[.]" * 25_000,
    "'http://' * n": "http://" * 14_286,
    "'hxxp[:]//' * n": "hxxp[:]//" * 11_112,
    "'%' * n": "%" * 100_000,
    "'http://example.com/' + '%25' * n": "http://example.com/" + "%25" * 33_327,
    "'.' * n": "." * 100_000,
    "'a' * n": "a" * 100_000,
    "'a dot ' * n": "a dot " * 16_667,
    "'a.com ' * n (16,667 URLs)": "a.com " * 16_667,
    "distinct URLs": " ".join(f"h{i}.example.com/p" for i in range(6_000))[:100_000],
    "'http://example.com/' + ')' * n": "http://example.com/" + ")" * 100_000,
    "'(' * n + 'example.com'": "(" * 100_000 + "example.com",
    "'@a.com' * n": "@a.com" * 16_667,
    "zero-width + 'a.'": "\u200ba." * 33_334,
    "full-width 'a.'": "\uff41\uff0e" * 50_000,
    "CJK + '.'": "\u4f8b." * 50_000,
    "'1.' * n": "1." * 50_000,
    "':/' * n": ":/" * 50_000,
    "mixed": ("a.b [.] c dot d hxxp://e.example/%25 (f.com) \u3002\u200b " * 2_000)[:100_000],
}


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        name=rng.choice(NAMES),
        emoji=rng.choice(EMOJI),
        n=rng.randrange(100_000),
        word=rng.choice(WORDS),
    )


def _with_links(rng: random.Random, count: int, obfuscated_share: float) -> str:
    text = _fill(rng.choice(TEXTS), rng)
    for _ in range(count):
        pool = OBFUSCATED if rng.random() < obfuscated_share else LINKS
        link = _fill(rng.choice(pool), rng)
        text = f"{link} {text}" if rng.random() < 0.3 else f"{text} {link}"
    return text


def corpus(kind: str, size: int, seed: int = 2606) -> list[str]:
    rng = random.Random(seed)
    if kind == "typical":
        return [
            _with_links(rng, 1, 0.2) if rng.random() < 0.1 else _fill(rng.choice(TEXTS), rng)
            for _ in range(size)
        ]
    return [_with_links(rng, rng.randint(1, 3), 1 / 3) for _ in range(size)]


def hashed_list() -> set[str]:
    entries = [f"host{i}.example.org/" for i in range(9_990)]
    entries += ["*.files1.example", "bad7.example.com/p", "shop.example.com/item"]
    entries += [f"sub{i}.example.net" for i in range(7)]
    return {url_sha256(rule_expression(entry)) for entry in entries}


def full_check(listed: set[str]) -> Callable[[str], int]:
    def check(message: str) -> int:
        hits = 0
        for found in extract_urls(message):
            for expression in expressions(found.canonical):
                if url_sha256(expression) in listed:
                    hits += 1
        return hits

    return check


_FLOOR = re.compile(r"https?://\S+")


def floor(message: str) -> int:
    return len(_FLOOR.findall(message))


def rate(function: Callable[[str], object], messages: list[str], repeats: int) -> float:
    """Median messages per CPU second of this process over ``repeats`` passes.

    CPU time, not wall time: a busy machine (other processes on the same cores) then
    slows the figure much less, and messages per CPU second is messages/s per core.
    """
    rates = []
    for _ in range(repeats):
        started = time.process_time()
        for message in messages:
            function(message)
        rates.append(len(messages) / (time.process_time() - started))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    listed = hashed_list()
    check = full_check(listed)
    results: dict[str, object] = {}
    print(f"{args.messages} messages per mix, median of {args.repeats} passes, per CPU second")
    for kind in ("typical", "link-heavy"):
        messages = corpus(kind, args.messages)
        with_urls = sum(1 for m in messages if extract_urls(m))
        urls = sum(len(extract_urls(m)) for m in messages)
        hits = sum(check(m) for m in messages)
        extract = rate(extract_urls, messages, args.repeats)
        checked = rate(check, messages, args.repeats)
        plain = rate(floor, messages, args.repeats)
        results[kind] = {
            "messages_with_urls": with_urls,
            "urls": urls,
            "list_hits": hits,
            "extract_msgs_per_s": round(extract),
            "full_check_msgs_per_s": round(checked),
            "floor_regex_msgs_per_s": round(plain),
        }
        print(
            f"{kind:>10}: {with_urls} messages with {urls} URLs ({hits} list hits)\n"
            f"            extract_urls        {extract:>10,.0f} msg/s\n"
            f"            full URL check      {checked:>10,.0f} msg/s\n"
            f"            floor regex         {plain:>10,.0f} msg/s "
            f"(extract_urls costs {plain / extract:.1f}x the floor)"
        )
    print("adversarial inputs (best of 3):")
    worst = ("", 0.0)
    adversarial: dict[str, float] = {}
    for name, text in ADVERSARIAL.items():
        best = min(_timed(text) for _ in range(3))
        per_kb = best * 1000 / (len(text.encode("utf-8")) / 1024)
        adversarial[name] = round(per_kb, 4)
        worst = max(worst, (name, per_kb), key=lambda item: item[1])
        print(f"    {name:<40} {len(text):>7} chars {best * 1000:8.1f} ms {per_kb:7.3f} ms/KB")
    print(f"worst case: {worst[1]:.3f} ms per KB ({worst[0]})")
    results["adversarial_ms_per_kb"] = adversarial
    results["adversarial_worst_ms_per_kb"] = round(worst[1], 4)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(results, out, indent=2)


def _timed(text: str) -> float:
    started = time.process_time()
    extract_urls(text)
    return time.process_time() - started


if __name__ == "__main__":
    main()
