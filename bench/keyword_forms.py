"""Keyword benchmark: the obfuscations a listed term is written in (each undone by the
matcher), by kind."""

from __future__ import annotations

import random
from collections.abc import Callable

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
