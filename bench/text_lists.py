"""Text benchmarks: made-up host names, and the URL and keyword lists written from them
(used by bench_text and ab_text).

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
  ``squeezed:``), none of which occurs in the benign vocabulary of text_messages.py.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, TextIO

from hashguard.text.keywords import KeywordMode, KeywordRule
from hashguard.text.normalize import normalize

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
