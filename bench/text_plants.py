"""Text benchmarks: a listed URL or keyword written in each of the obfuscations hashguard
undoes (used by bench_text)."""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Any

from text_lists import EXTENSIONS, SUBDOMAINS, Names, UrlEntry

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


def random_scheme(rng: random.Random, bare: float = 0.3) -> str:
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
        url = f"{random_scheme(rng, 0)}{host}{path}"
    elif kind == "hxxp":
        url = f"{rng.choice(HXXP)}{host}{path}"
    elif kind == "[:]//":
        url = f"{rng.choice(COLON_BRACKETS)}{host}{path}"
    elif kind == "[.]":
        every = rng.random() < 0.5
        url = f"{random_scheme(rng, 0.5)}{_replace_dots(host, rng, DOT_BRACKETS, every)}{path}"
    elif kind == "(dot)":
        every = rng.random() < 0.5
        url = f"{random_scheme(rng, 0.5)}{_replace_dots(host, rng, DOT_WORDS, every)}{path}"
    elif kind == "' dot '":
        word = rng.choice((" dot ", " dot ", " DOT ", " Dot "))
        scheme = random_scheme(rng, 0.7)
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
        url = f"{random_scheme(rng)}{_insert_invisible(host, rng, INVISIBLE, rng.randint(1, 3))}"
        url += _insert_invisible(path, rng, INVISIBLE, 1) if len(path) > 2 else path
        if rng.random() < 0.2:  # U+061C ARABIC LETTER MARK, a direction mark
            url = f"{random_scheme(rng)}{_insert_invisible(host, rng, chr(0x61C), 1)}{path}"
            kind = ALM_KIND
    elif kind == "full-width":
        url = _full_width(f"{random_scheme(rng)}{host}{path}")
    elif kind == "ideographic 。":
        stop = rng.choice(("\u3002", "\uff61"))
        url = f"{random_scheme(rng)}{host.replace('.', stop)}{path}"
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
        url = f"{random_scheme(rng, 0)}{user}{host}{port}{path}"
    elif kind == "query/fragment":
        extra = rng.choice(("?id=42", "?utm_source=chat&x=1", "#top", "?p=2#c", "?ref=chat#"))
        url = f"{random_scheme(rng)}{host}{path}{extra}"
    elif kind == "brackets/markdown":
        url = f"{random_scheme(rng)}{host}{path}"
        if rng.random() < 0.5:
            return Written(f"(see {url})", 5, 5 + len(url), kind)
        label = rng.choice(("link", "here", "pics", "\U0001f449"))
        return Written(f"[{label}]({url})", len(label) + 3, len(label) + 3 + len(url), kind)
    elif kind == "glued to CJK":
        url = f"{random_scheme(rng, 0.6)}{host}{path}"
        before, after = rng.choice(CJK_BEFORE), rng.choice(CJK_AFTER)
        return Written(f"{before}{url}{after}", len(before), len(before) + len(url), kind)
    elif kind == "IDN":
        url = f"{random_scheme(rng, 0.5)}{host}{path}"
    elif kind == "subdomain of domain rule":
        subs = ".".join(names.word(1, 2) for _ in range(rng.randint(1, 2)))
        url = f"{random_scheme(rng)}{subs}.{host}{path}"
    elif kind == "path under prefix":
        tail = names.path_word() + "/" if rng.random() < 0.3 else ""
        page = f"{tail}{names.path_word()}{rng.choice(EXTENSIONS)}"
        url = f"{random_scheme(rng)}{host}{entry.path}{page}"
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
