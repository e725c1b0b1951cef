"""Text benchmarks: benign near misses and the message corpora, with listed items planted
in a share of them (used by bench_text and ab_text).

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
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass, field
from typing import Any

from bench_url_extract import LINKS, NAMES, OBFUSCATED, TEXTS, WORDS
from bench_url_extract import corpus as chat_corpus
from keyword_corpus import EXTRAS, PHRASES, make_message
from keyword_forms import KINDS, SQUEEZED_KINDS
from text_lists import H_DIGITS, TLD_NAMES, Names, UrlEntry, UrlList
from text_plants import (
    CJK_AFTER,
    CJK_BEFORE,
    LETTER_KINDS,
    URL_KINDS,
    pick_entry,
    random_scheme,
    write_url,
)

from hashguard.text.keywords import KeywordMode, KeywordRule
from hashguard.text.normalize import normalize

# --- benign near misses ------------------------------------------------------------------

BENIGN_PATHS = ("/about/contact.html", "/news/today", "/", "/help/faq.php", "/public/index.html")


def benign_link(
    sample: dict[str, list[Any]], used: set[str], rng: random.Random, names: Names
) -> tuple[str, str]:
    """(kind, link text) of a link that no list entry covers."""
    kind = rng.choice(
        (
            "unlisted host",
            "unlisted host",
            "other page on a listed host",
            "sibling directory of a listed prefix",
            "listed prefix without its slash",
            "parent or sibling of a listed subdomain rule",
            "listed name, other TLD",
            "listed name with a digit added",
        )
    )
    scheme = random_scheme(rng, 0.4)
    if kind == "unlisted host":
        host, shown, _ = rng.choice(sample["unlisted"])
        path = rng.choice(BENIGN_PATHS) if rng.random() < 0.5 else f"/{names.path_word()}"
        return kind, f"{scheme}{rng.choice((host, shown))}{path}"
    if kind == "other page on a listed host":
        host, shown = rng.choice(sample["page host"])
        return kind, f"{scheme}{shown}{rng.choice(BENIGN_PATHS[:2])}"
    if kind == "sibling directory of a listed prefix":
        entry: UrlEntry = rng.choice(sample["prefix host"])
        return kind, f"{scheme}{entry.shown}/public/{names.path_word()}.html"
    if kind == "listed prefix without its slash":
        entry = rng.choice(sample["prefix host"])
        return kind, f"{scheme}{entry.shown}{entry.path.rstrip('/')}"
    if kind == "parent or sibling of a listed subdomain rule":
        entry = rng.choice(sample["sub rule"])
        parent = entry.shown.split(".", 1)[1]
        if rng.random() < 0.5:
            return kind, f"{scheme}{parent}/{names.path_word()}"
        return kind, f"{scheme}www.{parent}"
    entry = rng.choice(sample["domain"])
    label, _, tld = entry.shown.partition(".")
    if entry.detail == "sub":
        label, _, tld = tld.partition(".")
    if kind == "listed name, other TLD":
        other = rng.choice([t for t in TLD_NAMES if t != tld])
        return kind, f"{scheme}{label}.{other}/{names.path_word()}"
    for digit in H_DIGITS:
        if label + digit not in used:
            return kind, f"{scheme}{label}{digit}.{tld}"
    return kind, f"{scheme}{rng.choice(sample['unlisted'])[0]}"


@dataclass(frozen=True)
class Forms:
    """The rules' forms, to keep benign near misses clear of every rule."""

    substring: tuple[str, ...]  # letters of substring rules: they match anywhere
    squeezed: tuple[str, ...]  # squeezed forms of squeezed rules
    letters: frozenset[str]  # letters of every rule
    spelled: frozenset[str] = frozenset()  # squeezed forms of word and substring rules

    @classmethod
    def of(cls, rules: list[tuple[int, KeywordRule]]) -> Forms:
        return cls(
            tuple(r.letters for _, r in rules if r.mode is KeywordMode.SUBSTRING),
            tuple(r.squeezed for _, r in rules if r.mode is KeywordMode.SQUEEZED),
            frozenset(r.letters for _, r in rules),
            frozenset(r.squeezed for _, r in rules if r.mode is not KeywordMode.SQUEEZED),
        )


def benign_keyword(
    rules: list[tuple[int, KeywordRule]], forms: Forms, rng: random.Random
) -> tuple[str, str] | None:
    """A word or squeezed term glued to more letters, or a word term spelled letter by
    letter inside a longer run of single letters: none of which must match."""
    _, rule = rng.choice(rules)
    if rule.mode is KeywordMode.SUBSTRING:
        return None
    if rule.mode is KeywordMode.SQUEEZED and rng.random() < 0.5:
        kind, text = "squeezed term spelled out, glued to a letter", "x" + " ".join(rule.term)
    elif rule.mode is KeywordMode.WORD and rng.random() < 0.5:
        kind = "word term spelled out inside a run of single letters"
        text = " ".join(f"q{rule.term}q")
    else:
        kind = "word term inside a longer word"
        text = rng.choice((rule.term + "s", "un" + rule.term, rule.term + "ing"))
    view = normalize(text)
    if kind.startswith("squeezed"):  # every letter after the first two starts a word
        clash = any(s in view.squeezed[2:] for s in forms.squeezed)
    elif kind.startswith("word term spelled"):  # a run: its ends, and squeezed rules anywhere
        run = view.squeezed
        ends = {run[:n] for n in range(3, len(run) + 1)} | {run[-n:] for n in range(3, len(run))}
        clash = bool(ends & forms.spelled) or any(s in run for s in forms.squeezed)
    else:
        clash = view.letters in forms.letters
    if clash or any(s in view.letters for s in forms.substring):
        return None  # another rule would rightly fire
    return kind, text


# --- messages ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Plant:
    kind: str
    entry: str
    start: int
    end: int
    goal: bool


@dataclass(frozen=True, slots=True)
class Message:
    text: str
    plants: tuple[Plant, ...] = ()
    benign: tuple[str, ...] = ()  # near-miss kinds in the message


def _linkish(word: str) -> bool:
    return any(c in word for c in ".[](){}:") or word in ("dot", "DOT", "Dot")


def insert(text: str, piece: str, rng: random.Random) -> tuple[str, int]:
    """``piece`` between two words of ``text`` (never inside a link); its offset."""
    words = text.split(" ")
    spots = [
        i
        for i in range(len(words) + 1)
        if (i == 0 or not _linkish(words[i - 1])) and (i == len(words) or not _linkish(words[i]))
    ]
    at = rng.choice(spots or [0, len(words)])
    before, after = " ".join(words[:at]), " ".join(words[at:])
    head = before + " " if before else ""
    return head + piece + (" " + after if after else ""), len(head)


@dataclass
class Planter:
    rng: random.Random
    names: Names
    urls: UrlList
    rules: list[tuple[int, KeywordRule]]
    squeezed: list[tuple[int, KeywordRule]]
    forms: Forms
    words: list[tuple[int, KeywordRule]] = field(init=False)  # the word rules

    def __post_init__(self) -> None:
        self.words = [r for r in self.rules if r[1].mode is KeywordMode.WORD]

    def url(self, text: str) -> Message:
        kind = self.rng.choice(URL_KINDS)
        entry = pick_entry(kind, self.urls.sample, self.rng)
        written = write_url(kind, entry, self.rng, self.names)
        text, at = insert(text, written.text, self.rng)
        plant = Plant(
            f"url: {written.kind}",
            entry.entry,
            at + written.start,
            at + written.end,
            written.goal,
        )
        return Message(text, (plant,))

    def keyword(self, text: str) -> Message:
        kinds = list(KINDS) + list(SQUEEZED_KINDS) + list(LETTER_KINDS)
        kind = self.rng.choice(kinds)
        pool = self.squeezed if kind in SQUEEZED_KINDS else self.rules
        pool = self.words if kind in LETTER_KINDS else pool
        key, rule = self.rng.choice(pool)
        written = {**KINDS, **SQUEEZED_KINDS, **LETTER_KINDS}[kind](rule.term, self.rng)
        text, at = insert(text, written, self.rng)
        plant = Plant(f"keyword: {kind}", f"K{key}", at, at + len(written), True)
        return Message(text, (plant,))

    def benign(self, text: str, links: int, near_keywords: float) -> Message:
        kinds: list[str] = []
        for _ in range(links):
            kind, link = benign_link(self.urls.sample, self.urls.used, self.rng, self.names)
            text, _ = insert(text, link, self.rng)
            kinds.append(f"link: {kind}")
        if self.rng.random() < near_keywords:
            found = benign_keyword(self.rules, self.forms, self.rng)
            if found:
                text, _ = insert(text, found[1], self.rng)
                kinds.append(f"keyword: {found[0]}")
        return Message(text, (), tuple(kinds))

    def message(self, base: str, planted: float, links: int, near: float) -> Message:
        pick = self.rng.random()
        if pick < planted / 2:
            return self.url(base)
        if pick < planted:
            return self.keyword(base)
        return self.benign(base, links, near)


def make_corpora(args: argparse.Namespace, planter: Planter) -> dict[str, list[Message]]:
    rng = planter.rng
    typical: list[Message] = []
    chat = chat_corpus("typical", args.typical, seed=args.seed)
    for line in chat:
        base = line if rng.random() < 0.5 else " ".join(make_message(rng))
        links = 1 if rng.random() < 0.05 else 0
        typical.append(planter.message(base, args.planted, links, 0.02))
    heavy = [
        planter.message(line, args.planted, rng.randint(1, 2), 0.02)
        for line in chat_corpus("link-heavy", args.link_heavy, seed=args.seed + 1)
    ]
    return {"typical": typical, "link-heavy": heavy}


def vocabulary() -> str:
    """Every benign text the corpus is made of, in the keyword matcher's views."""
    texts = [" ".join(p) for p in PHRASES.values()]
    texts += [*EXTRAS, *TEXTS, *NAMES, *LINKS, *OBFUSCATED, *WORDS, *BENIGN_PATHS]
    texts += [*CJK_BEFORE, *CJK_AFTER, "see link here pics user guest pw utm_source chat id top"]
    vocab = " ".join(normalize(" ".join(texts)).letters.split())
    return vocab + " " + normalize(vocab).squeezed
