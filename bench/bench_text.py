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
import dataclasses
import gc
import hashlib
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from bench_keywords import (
    EXTRAS,
    KINDS,
    PHRASES,
    SQUEEZED_KINDS,
    make_message,
    make_rules,
)
from bench_url_extract import LINKS, NAMES, OBFUSCATED, TEXTS, WORDS
from bench_url_extract import corpus as chat_corpus

from hashguard.engine import Engine
from hashguard.errors import RowError
from hashguard.lists import formats
from hashguard.signals.registry import default_registry
from hashguard.store.store import Store
from hashguard.text.keywords import KeywordMode, KeywordRule
from hashguard.text.normalize import normalize
from hashguard.text.urls import extract_urls

HERE = Path(__file__).resolve()

# --- made-up host names ------------------------------------------------------------------

# No keyword term can occur in a host or path: terms are syllables that each start with one
# of b d f g k m n p r s t v z (bench_keywords.ONSETS), and these spell none of them, in
# any view of the keyword matcher (checked in check_alphabet).
H_ONSETS = ("c", "ch", "h", "j", "l", "w", "wh", "y", "qu", "x", "")
H_VOWELS = ("a", "e", "i", "o", "u", "ai", "oa", "ei", "ou", "ia")
H_CODAS = ("", "", "", "l", "x", "h", "w", "ch")
H_DIGITS = "01234689"  # 5 and 7 read as s and t
LATIN_ACCENTED = {
    "a": "\u00e4\u00e1\u00e5\u00e0",
    "e": "\u00e9\u00eb\u00e8",
    "i": "\u00ed\u00ef",
    "o": "\u00f6\u00f3\u00f4",
    "u": "\u00fc\u00fa\u00fb",
    "c": "\u00e7",
}
# Cyrillic letters whose Latin look-alike (if any) is one of the letters above.
CYRILLIC_HOST = (
    "\u0430\u0435\u043e\u0443\u0445\u0441\u0447\u0448\u0449\u044e\u044f\u0446\u0436\u044d"
    "\u044b\u0439\u0432\u0434\u0437\u0438\u043b\u0444\u0451"
)
KEYWORD_LETTERS = frozenset("bdfgkmnprstvz")
TLDS = {
    "com": 38, "net": 10, "org": 9, "ru": 10, "xyz": 7, "info": 5, "io": 3, "de": 4, "top": 4,
    "online": 2, "co.uk": 3, "site": 3, "cc": 2,
}  # fmt: skip
TLD_NAMES, TLD_WEIGHTS = list(TLDS), list(TLDS.values())
IDN_TLDS = ("de", "com", "eu", "org")
SUBDOMAINS = ("www", "cdn", "img", "m", "i", "w", "cdn2", "img3", "ch", "x", "lh")
EXTENSIONS = (".html", ".html", ".htm", ".php", ".jpg", ".png", ".gif")
IP_BLOCKS = ("192.0.2", "198.51.100", "203.0.113")  # RFC 5737 documentation ranges
CATEGORIES = "ABC"


def check_alphabet() -> None:
    """Host and path characters never read as a keyword consonant in any matcher view."""
    chars = set("".join(H_ONSETS + H_VOWELS + H_CODAS) + H_DIGITS + CYRILLIC_HOST)
    chars |= set("".join(LATIN_ACCENTED.values()))
    for c in sorted(chars):
        view = normalize(c)
        seen = set(view.normal + view.letters + view.squeezed)
        assert not seen & KEYWORD_LETTERS, f"{c!r} reads as {seen & KEYWORD_LETTERS}"


class Names:
    """Unique made-up labels: every registered name is used once, under one TLD."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def word(self, low: int = 2, high: int = 4) -> str:
        rng = self.rng
        return "".join(
            rng.choice(H_ONSETS) + rng.choice(H_VOWELS) + rng.choice(H_CODAS)
            for _ in range(rng.randint(low, high))
        )

    def label(self) -> str:
        rng = self.rng
        while True:
            pick = rng.random()
            name = self.word()
            if pick < 0.25:
                name += "".join(rng.choice(H_DIGITS) for _ in range(rng.randint(1, 3)))
            elif pick < 0.35:
                name += "-" + self.word(1, 2)
            if 3 <= len(name) <= 40 and name not in self.used:
                self.used.add(name)
                return name

    def registered(self) -> tuple[str, str, str]:
        """(ASCII name, name as written in messages, TLD): 2% IDN."""
        rng = self.rng
        label = self.label()
        if rng.random() >= 0.02:
            tld = rng.choices(TLD_NAMES, TLD_WEIGHTS)[0]
            return f"{label}.{tld}", f"{label}.{tld}", tld
        if rng.random() < 0.7:
            letters = list(label)
            spots = [i for i, c in enumerate(letters) if c in LATIN_ACCENTED]
            if not spots:
                return self.registered()
            for i in rng.sample(spots, rng.randint(1, min(3, len(spots)))):
                letters[i] = rng.choice(LATIN_ACCENTED[letters[i]])
            shown = "".join(letters)
            tld = rng.choice(IDN_TLDS)
        else:
            shown = "".join(rng.choice(CYRILLIC_HOST) for _ in range(rng.randint(4, 9)))
            tld = rng.choice(("\u0440\u0444", "ru"))
        if shown in self.used:
            return self.registered()
        self.used.add(shown)
        shown = f"{shown}.{tld}"
        return shown.encode("idna").decode("ascii"), shown, tld

    def path_word(self) -> str:
        word = self.word(1, 3)
        if self.rng.random() < 0.3:
            word += "".join(self.rng.choice(H_DIGITS) for _ in range(self.rng.randint(1, 4)))
        return word


@dataclass(frozen=True, slots=True)
class UrlEntry:
    entry: str
    rule: str  # page | prefix | domain | ip
    host: str  # ASCII (punycode) host, lower case
    shown: str  # the host as a message writes it (Unicode for IDN)
    path: str  # /dir/page.html, /dir/, or / for a domain rule
    detail: str = ""  # domain rules: reg (name.tld), sub (sub.name.tld), wild (*.name.tld)
    hashed: bool = False

    @property
    def idn(self) -> bool:
        return self.host != self.shown


class Reservoir:
    """A uniform sample of at most ``size`` items per pool."""

    def __init__(self, rng: random.Random, size: int) -> None:
        self.rng, self.size = rng, size
        self.pools: dict[str, list[Any]] = defaultdict(list)
        self.seen: Counter[str] = Counter()

    def offer(self, pool: str, item: Any) -> None:
        self.seen[pool] += 1
        items = self.pools[pool]
        if len(items) < self.size:
            items.append(item)
        else:
            k = self.rng.randrange(self.seen[pool])
            if k < self.size:
                items[k] = item


@dataclass
class UrlList:
    rows: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    sample: dict[str, list[Any]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)


def write_url_list(out: TextIO, n_urls: int, n_hashed: int, rng: random.Random) -> UrlList:
    """Write the URL list; keep a sample of entries to plant and hosts for near misses."""
    names = Names(rng)
    keep = Reservoir(random.Random(rng.random()), 3000)
    result = UrlList()
    out.write("signal_type,signal,id,category\n")
    n_ip = min(300, n_urls // 1000)
    n_domain = n_urls // 10
    n_prefix = n_urls // 5
    n_page = n_urls - n_domain - n_prefix - n_ip
    serial = 0

    def emit(entry: UrlEntry, listed: str) -> None:
        nonlocal serial
        serial += 1
        kind = "url_sha256" if entry.hashed else "url"
        out.write(f"{kind},{listed},{entry.entry},{CATEGORIES[serial % 3]}\n")
        result.rows += 1
        result.counts[f"{kind} {entry.rule}{' idn' if entry.idn else ''}"] += 1
        pool = "hashed" if entry.hashed else "idn" if entry.idn else entry.rule
        keep.offer(pool, entry)

    def page_path() -> str:
        dirs = [names.path_word() for _ in range(rng.choice((0, 1, 1, 2, 2, 3)))]
        name = names.path_word() + rng.choice(EXTENSIONS)
        return "/" + "".join(d + "/" for d in dirs) + name

    def page_host() -> tuple[str, str]:
        host, shown, _ = names.registered()
        if rng.random() < 0.6:
            sub = rng.choice(SUBDOMAINS) if rng.random() < 0.7 else names.word(1, 2)
            host, shown = f"{sub}.{host}", f"{sub}.{shown}"
        return host, shown

    def listed_form(scheme: str, host: str, shown: str, path: str) -> str:
        written = shown if host != shown and rng.random() < 0.5 else host
        return f"{scheme}{written}{path}"

    def hashed_value(host: str, path: str) -> str:
        return hashlib.sha256(f"{host}{path}".encode()).hexdigest()

    # pages: a geometric number of pages per host
    made = 0
    while made < n_page:
        host, shown = page_host()
        keep.offer("page host", (host, shown))
        paths: set[str] = set()
        for _ in range(min(n_page - made, 1 + int(rng.expovariate(1 / 9)))):
            path = page_path()
            if path in paths:
                continue
            paths.add(path)
            made += 1
            entry = UrlEntry(f"P{made}", "page", host, shown, path)
            emit(
                entry,
                listed_form(rng.choice(("http://", "http://", "https://", "")), host, shown, path),
            )
    # directory prefixes: 1-8 per host, never nested
    made = 0
    while made < n_prefix:
        host, shown = page_host()
        firsts: set[str] = set()
        for _ in range(min(n_prefix - made, rng.randint(1, 8))):
            first = names.path_word()
            if first in firsts:
                continue
            firsts.add(first)
            path = f"/{first}/" + (f"{names.path_word()}/" if rng.random() < 0.3 else "")
            made += 1
            entry = UrlEntry(f"D{made}", "prefix", host, shown, path)
            keep.offer("prefix host", entry)
            emit(entry, listed_form(rng.choice(("", "", "http://")), host, shown, path))
    # domain rules
    for i in range(1, n_domain + 1):
        host, shown, _ = names.registered()
        pick = rng.random()
        if pick < 0.7:
            entry = UrlEntry(f"R{i}", "domain", host, shown, "/", "reg")
            emit(entry, shown if host != shown and rng.random() < 0.5 else host)
        elif pick < 0.9:
            sub = names.word(1, 2)
            entry = UrlEntry(f"R{i}", "domain", f"{sub}.{host}", f"{sub}.{shown}", "/", "sub")
            keep.offer("sub rule", entry)
            emit(entry, entry.host)
        else:
            entry = UrlEntry(f"R{i}", "domain", host, shown, "/", "wild")
            emit(entry, f"*.{host}")
    # pages on IPv4 hosts
    for i in range(1, n_ip + 1):
        ip = f"{rng.choice(IP_BLOCKS)}.{rng.randint(1, 254)}"
        path = f"/{names.path_word()}/{names.path_word()}{rng.choice(EXTENSIONS)}"
        emit(UrlEntry(f"I{i}", "ip", ip, ip, path), f"http://{ip}{path}")
    # hashed entries on hosts of their own
    for i in range(1, n_hashed + 1):
        pick = rng.random()
        if pick < 0.6:
            host, shown = page_host()
            entry = UrlEntry(f"H{i}", "page", host, shown, page_path(), hashed=True)
        elif pick < 0.9:
            host, shown = page_host()
            entry = UrlEntry(f"H{i}", "prefix", host, shown, f"/{names.path_word()}/", hashed=True)
        else:
            host, shown, _ = names.registered()
            entry = UrlEntry(f"H{i}", "domain", host, shown, "/", "reg", hashed=True)
        emit(entry, hashed_value(entry.host, entry.path))
    # names never listed, for benign links
    for _ in range(3000):
        keep.offer("unlisted", names.registered())
    result.sample = dict(keep.pools)
    result.used = names.used
    return result


def write_keyword_list(
    out: TextIO, rules: list[tuple[int, KeywordRule]], rng: random.Random
) -> None:
    out.write("signal_type,signal,id,category\n")
    for key, rule in rules:
        if rule.mode is KeywordMode.WORD:
            prefix = "word:" if rng.random() < 0.3 else ""
        else:
            prefix = f"{rule.mode.value}:"
        out.write(f"keyword,{prefix}{rule.term},K{key},{CATEGORIES[key % 3]}\n")


# --- planting: URLs ----------------------------------------------------------------------

INVISIBLE = (
    "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
CJK_BEFORE = (
    "\u770b\u8fd9\u4e2a",
    "\u8bf7\u770b",
    "\u8a73\u3057\u304f\u306f",
    "\u30ea\u30f3\u30af",
)
CJK_AFTER = ("\u3002\u5f88\u597d", "\u3002", "\u3002\u8c22\u8c22")
HXXP = ("hxxp://", "hXXp://", "hxxps://", "hXXps://", "h**p://", "h**ps://", "HXXP://")
COLON_BRACKETS = ("http[:]//", "https(:)//", "hxxp[://]", "hxxps(://)", "http(://)", "hxxp[:]//")
DOT_BRACKETS = ("[.]", "(.)", "{.}", "[ . ]", " [.] ", "( . )")
DOT_WORDS = ("[dot]", "(dot)", "{dot}", "[DOT]", "(Dot)", "[ dot ]", " (dot) ")


def _scheme(rng: random.Random, bare: float = 0.3) -> str:
    if rng.random() < bare:
        return ""
    return "https://" if rng.random() < 0.4 else "http://"


def _replace_dots(host: str, rng: random.Random, forms: tuple[str, ...], every: bool) -> str:
    form = rng.choice(forms)
    if every:
        return host.replace(".", form)
    head, _, tld = host.rpartition(".")
    return f"{head}{form}{tld}"


def _insert_invisible(text: str, rng: random.Random, chars: str, count: int) -> str:
    out = list(text)
    for _ in range(count):
        out.insert(rng.randint(1, len(out) - 1), rng.choice(chars))
    return "".join(out)


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _percent(text: str, rng: random.Random, count: int) -> str:
    spots = [i for i, c in enumerate(text) if c.isascii() and c.isalnum()]
    chosen = set(rng.sample(spots, min(count, len(spots))))
    hexes = ("%{:02X}", "%{:02x}")
    return "".join(
        rng.choice(hexes).format(ord(c)) if i in chosen else c for i, c in enumerate(text)
    )


def _ipv4_number(ip: str, rng: random.Random) -> str:
    parts = [int(p) for p in ip.split(".")]
    pick = rng.randrange(3)
    if pick == 0:
        return str(parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3])
    if pick == 1:
        return ".".join(f"0x{p:02x}" for p in parts)
    return ".".join(f"0{p:o}" for p in parts)


@dataclass(frozen=True, slots=True)
class Written:
    text: str  # what goes into the message
    start: int  # the planted URL's span in ``text``
    end: int
    kind: str
    goal: bool = True


URL_KINDS = (
    "plain", "hxxp", "[:]//", "[.]", "(dot)", "' dot '", "zero-width", "full-width",
    "ideographic 。", "no scheme", "percent-encoding", "uppercase host", "user@ / port",
    "query/fragment", "brackets/markdown", "glued to CJK", "IDN", "subdomain of domain rule",
    "path under prefix", "IPv4 as a number", "hashed (url_sha256)",
)  # fmt: skip
GAP_KINDS = ("' dot ' gap: one join, rare TLD",)  # documented as not handled
ALM_KIND = "zero-width: U+061C ARABIC LETTER MARK"  # a direction mark, which the docs cover


def pick_entry(kind: str, sample: dict[str, list[Any]], rng: random.Random) -> UrlEntry:
    pools = {
        "IDN": ("idn",),
        "subdomain of domain rule": ("domain",),
        "path under prefix": ("prefix",),
        "IPv4 as a number": ("ip",),
        "hashed (url_sha256)": ("hashed",),
    }.get(kind, ("page", "prefix", "domain"))
    entry: UrlEntry = rng.choice(sample[rng.choice(pools)])
    return entry


def entry_url(entry: UrlEntry, rng: random.Random, names: Names) -> tuple[str, str]:
    """(host as written, path) of a URL the entry covers."""
    host, path = entry.shown, entry.path
    if entry.rule == "prefix" and rng.random() < 0.5:
        path += names.path_word() + rng.choice(EXTENSIONS)
    elif entry.rule == "domain":
        if entry.detail == "wild" and rng.random() < 0.5:
            host = f"{rng.choice(SUBDOMAINS)}.{host}"
        if rng.random() < 0.5:
            path = f"/{names.path_word()}/{names.path_word()}{rng.choice(EXTENSIONS)}"
    return host, path


def write_url(kind: str, entry: UrlEntry, rng: random.Random, names: Names) -> Written:
    host, path = entry_url(entry, rng, names)
    if kind == "plain":
        url = f"{_scheme(rng, 0)}{host}{path}"
    elif kind == "hxxp":
        url = f"{rng.choice(HXXP)}{host}{path}"
    elif kind == "[:]//":
        url = f"{rng.choice(COLON_BRACKETS)}{host}{path}"
    elif kind == "[.]":
        every = rng.random() < 0.5
        url = f"{_scheme(rng, 0.5)}{_replace_dots(host, rng, DOT_BRACKETS, every)}{path}"
    elif kind == "(dot)":
        every = rng.random() < 0.5
        url = f"{_scheme(rng, 0.5)}{_replace_dots(host, rng, DOT_WORDS, every)}{path}"
    elif kind == "' dot '":
        word = rng.choice((" dot ", " dot ", " DOT ", " Dot "))
        scheme = _scheme(rng, 0.7)
        url = f"{scheme}{host.replace('.', word)}{path if path != '/' else ''}"
        labels = host.split(".")
        clear = (
            len(labels) > 2
            or path != "/"
            or scheme
            or labels[0] == "www"
            or labels[-1] in ("com", "net", "org")
        )
        if not clear:
            kind = GAP_KINDS[0]
    elif kind == "zero-width":
        url = f"{_scheme(rng)}{_insert_invisible(host, rng, INVISIBLE, rng.randint(1, 3))}"
        url += _insert_invisible(path, rng, INVISIBLE, 1) if len(path) > 2 else path
        if rng.random() < 0.2:  # U+061C ARABIC LETTER MARK, a direction mark
            url = f"{_scheme(rng)}{_insert_invisible(host, rng, chr(0x61C), 1)}{path}"
            kind = ALM_KIND
    elif kind == "full-width":
        url = _full_width(f"{_scheme(rng)}{host}{path}")
    elif kind == "ideographic 。":
        stop = rng.choice(("\u3002", "\uff61"))
        url = f"{_scheme(rng)}{host.replace('.', stop)}{path}"
    elif kind == "no scheme":
        url = f"{host}{path}" if path != "/" or rng.random() < 0.5 else host
    elif kind == "percent-encoding":
        url = f"http://{_percent(host, rng, rng.randint(1, 3))}{_percent(path, rng, 2)}"
    elif kind == "uppercase host":
        cased = (
            host.upper()
            if rng.random() < 0.5
            else "".join(c.upper() if rng.random() < 0.5 else c for c in host)
        )
        url = f"{rng.choice(('HTTP://', 'http://', 'Https://', ''))}{cased}{path}"
    elif kind == "user@ / port":
        user = rng.choice(("user@", "guest:pw@", "", "a.b@"))
        port = rng.choice((":8080", ":443", ":80", "")) if user else rng.choice((":8080", ":81"))
        url = f"{_scheme(rng, 0)}{user}{host}{port}{path}"
    elif kind == "query/fragment":
        extra = rng.choice(("?id=42", "?utm_source=chat&x=1", "#top", "?p=2#c", "?ref=chat#"))
        url = f"{_scheme(rng)}{host}{path}{extra}"
    elif kind == "brackets/markdown":
        url = f"{_scheme(rng)}{host}{path}"
        if rng.random() < 0.5:
            return Written(f"(see {url})", 5, 5 + len(url), kind)
        label = rng.choice(("link", "here", "pics", "\U0001f449"))
        return Written(f"[{label}]({url})", len(label) + 3, len(label) + 3 + len(url), kind)
    elif kind == "glued to CJK":
        url = f"{_scheme(rng, 0.6)}{host}{path}"
        before, after = rng.choice(CJK_BEFORE), rng.choice(CJK_AFTER)
        return Written(f"{before}{url}{after}", len(before), len(before) + len(url), kind)
    elif kind == "IDN":
        url = f"{_scheme(rng, 0.5)}{host}{path}"
    elif kind == "subdomain of domain rule":
        subs = ".".join(names.word(1, 2) for _ in range(rng.randint(1, 2)))
        url = f"{_scheme(rng)}{subs}.{host}{path}"
    elif kind == "path under prefix":
        tail = names.path_word() + "/" if rng.random() < 0.3 else ""
        url = f"{_scheme(rng)}{host}{entry.path}{tail}{names.path_word()}{rng.choice(EXTENSIONS)}"
    elif kind == "IPv4 as a number":
        url = f"http://{_ipv4_number(host, rng)}{path}"
    elif kind == "hashed (url_sha256)":
        how = rng.choice(("plain", "hxxp", "[.]", "no scheme"))
        return dataclasses.replace(write_url(how, entry, rng, names), kind=kind)
    else:
        raise ValueError(kind)
    goal = kind not in GAP_KINDS
    if rng.random() < 0.2:  # trailing punctuation, not part of the link
        return Written(url + rng.choice(".,!?:;"), 0, len(url), kind, goal)
    return Written(url, 0, len(url), kind, goal)


def letter_by_letter(term: str, rng: random.Random) -> str:
    """A word term spelled one character a token, one separator throughout."""
    return rng.choice((" ", ".", "-", "_", " . ")).join(term)


LETTER_KINDS = {"letter by letter": letter_by_letter}  # for word terms


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
    scheme = _scheme(rng, 0.4)
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


# --- processes: build and load -----------------------------------------------------------


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MB."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line.split(":")[0]] = int(line.split()[1]) / 1024
    return values["VmRSS"], values["VmHWM"]


def child(mode: str, db: str, index_dir: Path) -> dict[str, Any]:
    """Run in a fresh interpreter: build the indexes from the store, or load the snapshot."""
    store = Store(db, create=False)
    gc.collect()
    before, _ = rss_mb()
    started = time.perf_counter()
    engine = Engine(store, index_dir=None if mode == "build" else index_dir)
    seconds = time.perf_counter() - started
    after, peak = rss_mb()
    out = {
        "seconds": seconds,
        "rss_before_mb": before,
        "rss_after_mb": after,
        "peak_mb": peak,
        "loaded_from": engine.indexes.loaded_from,
        "stats": engine.indexes.stats(),
    }
    if mode == "build":
        started = time.perf_counter()
        engine.indexes.save(index_dir)
        out["save_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    engine.match_text("first message after start: see http://example.com/x")
    out["first_match_s"] = time.perf_counter() - started
    if mode == "load":  # read every page of the memory-mapped arrays, as lookups will
        for index in engine.indexes.indexes.values():
            rows = index.rows
            for array in (getattr(index, "keys", None), rows.base_pks, rows.base_banks):
                if array is not None and array.size:
                    int(np.frombuffer(array, np.uint8)[::4096].sum())
        out["rss_touched_mb"] = rss_mb()[0]
    store.close()
    return out


def run_child(mode: str, db: str, index_dir: Path) -> dict[str, Any]:
    command = [
        sys.executable,
        str(HERE),
        "--child",
        mode,
        "--db",
        db,
        "--index-dir",
        str(index_dir),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode:
        hint = ""
        if "statement timeout" in result.stderr:
            hint = (
                "\nThe query reading the store's active signals timed out: PostgreSQL has no "
                "statistics on the freshly imported entry tables and picks a nested-loop join "
                "(quadratic). Rerun with --pg-analyze."
            )
        raise SystemExit(f"{mode} failed:\n{result.stderr[-3000:]}{hint}")
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def timed_import(store: Store, bank: str, path: Path) -> float:
    errors: list[RowError] = []
    started = time.perf_counter()
    with open(path, "rb") as raw:
        rows = formats.get("csv").read(raw, default_registry(), errors)
        report = store.import_rows(bank, rows, errors, path.name)
    seconds = time.perf_counter() - started
    print(
        f"  imported {path.name}: {report.signals_added:,} signals in {seconds:.1f} s", flush=True
    )
    return seconds


# --- measuring ---------------------------------------------------------------------------


Measured = dict[str, tuple[Callable[[str], object], list[str]]]


def measure(functions: Measured, repeats: int, chunk: int = 250) -> dict[str, dict[str, float]]:
    """Messages/s and latencies of each function over its messages, measured side by side.

    The speed of these shared machines drifts by tens of percent within seconds, so the
    functions are not timed one after the other: each pass takes slices of ``chunk``
    messages of every function in turn, spread evenly over the pass, so that a slow spell
    slows all of them alike. Rates are medians over ``repeats`` passes (CPU and wall time);
    p50/p99/max come from one more pass timing each message (``perf_counter_ns``).
    """
    for function, texts in functions.values():
        for text in texts[:500]:
            function(text)
    plan = sorted(
        (start / len(texts), name, start)
        for name, (_, texts) in functions.items()
        for start in range(0, len(texts), chunk)
    )
    cpu_rates: dict[str, list[float]] = {name: [] for name in functions}
    wall_rates: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        cpu = dict.fromkeys(functions, 0.0)
        wall = dict.fromkeys(functions, 0.0)
        for _, name, start in plan:
            function, texts = functions[name]
            part = texts[start : start + chunk]
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            for text in part:
                function(text)
            cpu[name] += time.process_time() - started_cpu
            wall[name] += time.perf_counter() - started_wall
        for name, (_, texts) in functions.items():
            cpu_rates[name].append(len(texts) / cpu[name])
            wall_rates[name].append(len(texts) / wall[name])
    spent: dict[str, list[int]] = {name: [] for name in functions}
    clock = time.perf_counter_ns
    for _, name, start in plan:
        function, texts = functions[name]
        for text in texts[start : start + chunk]:
            started = clock()
            function(text)
            spent[name].append(clock() - started)
    out = {}
    for name, times in spent.items():
        times.sort()
        out[name] = {
            "msgs_per_cpu_s": statistics.median(cpu_rates[name]),
            "msgs_per_wall_s": statistics.median(wall_rates[name]),
            "p50_us": times[len(times) // 2] / 1e3,
            "p99_us": times[min(len(times) - 1, int(len(times) * 0.99))] / 1e3,
            "max_us": times[-1] / 1e3,
        }
    return out


@dataclass
class Tally:
    planted: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    exact: Counter[str] = field(default_factory=Counter)
    goal: dict[str, bool] = field(default_factory=dict)
    misses: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    clean: int = 0
    false_positives: list[dict[str, Any]] = field(default_factory=list)
    benign_kinds: Counter[str] = field(default_factory=Counter)
    benign_fp: Counter[str] = field(default_factory=Counter)
    extra: list[dict[str, Any]] = field(default_factory=list)


def evaluate(engine: Engine, messages: list[Message], tally: Tally) -> None:
    for message in messages:
        matches = engine.match_text(message.text).matches
        spans = [(m.entry, *(m.found or {}).get("span", (0, 0))) for m in matches]
        if not message.plants:
            tally.clean += 1
            for kind in message.benign:
                tally.benign_kinds[kind] += 1
            if matches:
                for kind in message.benign or ("(no near miss)",):
                    tally.benign_fp[kind] += 1
                tally.false_positives.append(
                    {
                        "text": message.text,
                        "near_misses": list(message.benign),
                        "matches": [m.as_dict() for m in matches],
                    }
                )
            continue
        for plant in message.plants:
            tally.planted[plant.kind] += 1
            tally.goal[plant.kind] = plant.goal
            hit = [
                s
                for s in spans
                if s[0] == plant.entry and s[1] <= plant.start and s[2] >= plant.end
            ]
            if hit:
                tally.found[plant.kind] += 1
                if any(s[1] == plant.start and s[2] == plant.end for s in hit):
                    tally.exact[plant.kind] += 1
            elif len(tally.misses[plant.kind]) < 5:
                found = extract_urls(message.text)
                tally.misses[plant.kind].append(
                    {
                        "planted": message.text[plant.start : plant.end],
                        "entry": plant.entry,
                        "text": message.text,
                        "matches": spans,
                        "urls": [(u.raw, u.canonical) for u in found],
                    }
                )
        wanted = {p.entry for p in message.plants}
        for m in matches:
            if m.entry not in wanted:
                tally.extra.append({"text": message.text, "match": m.as_dict()})


def machine() -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "unicodedata": unicodedata.unidata_version,
        **{
            p: version(p)
            for p in (
                "numpy",
                "SQLAlchemy",
                "pyahocorasick",
                "confusable-homoglyphs",
                "idna",
                "publicsuffixlist",
            )
        },
    }


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
        "machine": machine(),
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
