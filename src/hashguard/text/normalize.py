"""Undo the obfuscations people use to slip keywords past a filter, keeping offsets.

``normalize(text)`` gives three views of a message:

``normal``
    Unicode NFKC, case folding, zero-width/format characters (Cf, and the invisible Hangul
    fillers) and combining marks (Mn, Me, after NFD) removed, look-alike letters from other
    scripts mapped to their Latin prototype (Unicode's confusables.txt, as bundled by the
    ``confusable-homoglyphs`` package), other scripts' decimal digits mapped to ASCII
    digits, every kind of white space mapped to a plain space. "BLUE falcon" written in
    full-width capitals, with an accent on the "a", a zero-width space inside and a Cyrillic
    "o", becomes "blue falcon".
``letters``
    ``normal`` with the digit and symbol substitutions of leetspeak undone (4→a, 3→e, 1→i,
    0→o, 5→s, 7→t, @→a, $→s) and "l" folded into "i", since "1" stands for either. Same
    length as ``normal``, character for character.
``squeezed``
    ``letters`` with every character that is not a letter or a digit removed, so that
    "b a d w o r d" and "b.a.d-w_o_r_d" read "badword".

Every character of every view maps back to the character of the original text it came
from, so a match found in a view is reported as a span of what the user wrote. The letters
view is made with one ``str.translate`` from a table built once at import (messages are
scanned in it); the normal view, the squeezed view and the offset maps when first asked
for, in time linear in the text.
"""

from __future__ import annotations

import json
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from itertools import accumulate

__all__ = ["LEET", "Normalized", "View", "normalize", "normalize_char", "undo_leet"]


class View(StrEnum):
    """One way of reading a message; see the module docstring."""

    NORMAL = "normal"
    LETTERS = "letters"
    SQUEEZED = "squeezed"


# Leetspeak: digits and symbols written for letters. Not a Unicode confusables table; those
# come from the package below. "l" joins "i" because "1" stands for both.
LEET: dict[str, str] = {
    "4": "a",
    "@": "a",
    "3": "e",
    "1": "i",
    "l": "i",
    "0": "o",
    "5": "s",
    "$": "s",
    "7": "t",
}

_DROP_CATEGORIES = frozenset({"Mn", "Me", "Cf"})
# Letters (category Lo) that render as nothing and are used as invisible padding.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
_MAX_PROTOTYPE = 3  # longest Latin prototype taken from the confusables table ("rn" for "m")


def _load_confusables() -> dict[str, str]:
    """Non-ASCII look-alike → its ASCII letter/digit prototype, case-folded.

    ``confusable-homoglyphs`` stores each line ``source ; prototype`` of Unicode's
    confusables.txt in both directions (every character lists its partners). A source has
    exactly one partner, its prototype, and no ASCII letter or digit is ever the source of
    a non-ASCII prototype, so a non-ASCII character whose only partner is ASCII letters or
    digits is a source and that partner is its prototype.
    """
    path = resources.files("confusable_homoglyphs").joinpath("confusables.json")
    data: dict[str, list[dict[str, str]]] = json.loads(path.read_text(encoding="utf-8"))
    table: dict[str, str] = {}
    for char, partners in data.items():
        source = char.strip("\u200e")  # right-to-left characters are wrapped in LRM marks
        if len(source) != 1 or source.isascii() or len(partners) != 1:
            continue
        target = partners[0]["c"].strip("\u200e")
        if 0 < len(target) <= _MAX_PROTOTYPE and target.isascii() and target.isalnum():
            table[source] = target.casefold()
    return table


_CONFUSABLES = _load_confusables()


def _fold_confusable(char: str) -> str:
    """The prototype of ``char``, else that of its case-folded form, else ``char``.

    A capital's own prototype comes first, since it is the letter it looks like (Greek
    capital Nu looks like "N", its small form like "v"); a capital without one may still
    have a small form that looks like a Latin letter.
    """
    if char in _CONFUSABLES:
        return _CONFUSABLES[char]
    return _CONFUSABLES.get(char.casefold(), char)


def _fold_confusables(text: str) -> str:
    return "".join(_fold_confusable(c) for c in text)


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(
        c
        for c in decomposed
        if unicodedata.category(c) not in _DROP_CATEGORIES and c not in _INVISIBLE_LETTERS
    )
    return unicodedata.normalize("NFC", kept)


def _simple(char: str) -> str:
    if char.isspace():
        return " "
    if not char.isascii() and unicodedata.category(char) == "Nd":
        return str(unicodedata.decimal(char))
    return char


def normalize_char(char: str) -> str:
    """The ``normal`` view of one character (possibly empty, possibly several characters).

    NFKC, marks and invisibles removed, confusables, case folding, marks removed again
    (case folding turns the combining Greek ypogegrammeni into a letter iota, so marks go
    before it too), repeated until nothing changes (each step can expose work for another:
    an accented Cyrillic letter is a confusable only once its accent is gone).
    """
    text = char
    for _ in range(6):
        step = _strip_marks(unicodedata.normalize("NFKC", text))
        step = "".join(_simple(c) for c in step)
        step = _fold_confusables(step).casefold()
        step = _fold_confusables(_strip_marks(step))
        step = "".join(_simple(c) for c in step)
        if step == text:
            break
        text = step
    return text


_HANGUL_SYLLABLES = range(0xAC00, 0xD7A4)  # decompose to jamo and compose back: unchanged
# Planes 4 to 13 hold no characters, planes 15 and 16 only private use ones.
_PLANES = (range(0x40000), range(0xE0000, 0xF0000))


def _may_change(code: int) -> bool:
    char = chr(code)
    category = unicodedata.category(char)
    if category in ("Cn", "Co", "Cs") or code in _HANGUL_SYLLABLES:
        return False
    return not (
        unicodedata.is_normalized("NFKD", char)
        and char.casefold() == char
        and category not in _DROP_CATEGORIES
        and category != "Nd"
        and char not in _CONFUSABLES
        and char not in _INVISIBLE_LETTERS
        and not char.isspace()
    )


def _build_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for code in (code for plane in _PLANES for code in plane):
        if code < 0x80:
            char = chr(code)
            folded = " " if char.isspace() else char.lower()
            if folded != char:
                table[code] = folded
        elif _may_change(code):
            folded = normalize_char(chr(code))
            if folded != chr(code):
                table[code] = folded or None
    return table


class _TranslationTable(dict[int, "str | int | None"]):
    """``_TABLE`` for ``str.translate``, remembering the characters it leaves alone.

    ``str.translate`` treats a missing key as "keep the character", but only after raising
    and catching a KeyError, which makes text in other scripts several times slower than
    ASCII. Characters met are added as mapping to themselves, up to a bound.
    """

    __slots__ = ()
    bound = 0

    def __missing__(self, code: int) -> int:
        if len(self) < self.bound:
            self[code] = code
        return code


_TABLE = _build_table()
_TRANSLATE = _TranslationTable(_TABLE)
_TranslationTable.bound = len(_TABLE) + 100_000
_LEET_TABLE = str.maketrans(LEET)
# The letters view in one pass: each character's normal form with leetspeak undone (no
# character LEET produces is one it replaces, so the order of the two does not matter).
_LETTERS_TRANSLATE = _TranslationTable(
    {code: value.translate(_LEET_TABLE) if value else value for code, value in _TABLE.items()}
)
for _code, _letter in _LEET_TABLE.items():
    _LETTERS_TRANSLATE.setdefault(_code, _letter)


def _char_class(codes: list[int]) -> str:
    parts: list[str] = []
    start = prev = codes[0]
    for code in [*codes[1:], -1]:
        if code == prev + 1:
            prev = code
            continue
        parts.append(re.escape(chr(start)))
        if prev > start:
            parts.append("-" + re.escape(chr(prev)))
        start = prev = code
    return "[" + "".join(parts) + "]"


# Characters whose normal form is not exactly one character: the only places where the
# offsets of ``normal`` and the original text drift apart.
# (A class with characters beyond the BMP is matched range by range, slowly, so those are
# matched by one range and looked up one by one.)
_UNEVEN = re.compile(
    _char_class(sorted(c for c, v in _TABLE.items() if c < 0x10000 and (v is None or len(v) != 1)))
    + "|[\U00010000-\U0010ffff]"
)
# str.translate looks every character of non-ASCII text up in its table, and a list indexed by
# code point answers sooner than a dict (the letters view of bench_text's chat messages 1.4x
# sooner). The lists cover the planes text and emoji are written in; text holding one of the
# few characters beyond them that the tables change (CJK compatibility ideographs, tags,
# variation selectors) is translated with the dicts. Characters beyond the lists that the
# tables keep raise IndexError, which str.translate takes as "keep".
_LIST_SIZE = 0x20000
_BEYOND_LISTS = re.compile(_char_class(sorted(c for c in _LETTERS_TRANSLATE if c >= _LIST_SIZE)))


def _listed(table: dict[int, str | int | None], unchanged: list[int]) -> list[str | int | None]:
    listed: list[str | int | None] = list(unchanged)
    for code, value in table.items():
        if code < _LIST_SIZE:
            listed[code] = value
    return listed


# The ints of unchanged characters are shared: 1 MB for each list, 3.6 MB of ints for both.
_UNCHANGED = list(range(_LIST_SIZE))
_LETTERS_LIST = _listed(_LETTERS_TRANSLATE, _UNCHANGED)
_NORMAL_LIST = _listed(_TRANSLATE, _UNCHANGED)
del _UNCHANGED


def _translate(text: str, listed: list[str | int | None], table: _TranslationTable) -> str:
    return text.translate(listed if _BEYOND_LISTS.search(text) is None else table)


_SEPARATORS = re.compile(r"[\W_]+")
# The squeezed view: ASCII separators dropped by bytes.translate (10x sooner than a regex),
# then the non-ASCII ones (emoji, CJK punctuation) by a regex, if any are left.
_ASCII_SEPARATORS = bytes(c for c in range(0x80) if not chr(c).isalnum())
_NON_ASCII_SEPARATORS = re.compile(r"[^\w\x00-\x7f]+")


def _squeeze(text: str) -> str:
    """``text`` without the characters that are not letters or digits (``[\\W_]``)."""
    data = text.encode("utf-8", "surrogatepass").translate(None, _ASCII_SEPARATORS)
    kept = data.decode("utf-8", "surrogatepass")
    return kept if kept.isascii() else _NON_ASCII_SEPARATORS.sub("", kept)


@dataclass(frozen=True, slots=True)
class _OffsetMap:
    """Maps positions of a derived string to positions of the string it came from.

    Built from "events": places where ``width`` source characters became ``out`` derived
    characters with ``out != width``. Everywhere else the two advance in step.
    """

    starts: list[int]  # derived position where each event's output starts
    sources: list[int]  # source position of each event
    outs: list[int]  # derived characters each event produced
    shifts: list[int]  # derived minus source position, just after each event

    @classmethod
    def build(cls, events: list[tuple[int, int, int]]) -> _OffsetMap:
        if not events:
            return cls([], [], [], [])
        sources, widths, outs = map(list, zip(*events, strict=True))
        shifts = list(accumulate(out - width for width, out in zip(widths, outs, strict=True)))
        # where an event's output starts: its source, moved by the shift before it
        starts = [
            source + shift - out + width
            for source, shift, out, width in zip(sources, shifts, outs, widths, strict=True)
        ]
        return cls(starts, sources, outs, shifts)

    def source(self, pos: int) -> int:
        k = bisect_right(self.starts, pos) - 1
        if k < 0:
            return pos
        if pos < self.starts[k] + self.outs[k]:
            return self.sources[k]
        return pos - self.shifts[k]


class Normalized:
    """A message in its three views, each mappable back to the original text."""

    __slots__ = ("_letters_map", "_normal", "_squeezed", "_squeezed_map", "letters", "original")

    def __init__(self, original: str, letters: str) -> None:
        self.original = original
        self.letters = letters
        self._normal: str | None = None
        self._squeezed: str | None = None
        self._letters_map: _OffsetMap | None = None
        self._squeezed_map: _OffsetMap | None = None

    def __repr__(self) -> str:
        return f"Normalized({self.original!r} -> {self.normal!r} / {self.letters!r})"

    @property
    def normal(self) -> str:
        """Made when asked for: a message is scanned in its letters view, and most have no
        match whose normal form is wanted."""
        if self._normal is None:
            text = self.original
            ascii_only = text.isascii() and text.isprintable()
            if ascii_only:
                self._normal = text.lower()
            else:
                self._normal = _translate(text, _NORMAL_LIST, _TRANSLATE)
        return self._normal

    @property
    def squeezed(self) -> str:
        if self._squeezed is None:
            self._squeezed = _squeeze(self.letters)
        return self._squeezed

    def view(self, view: View) -> str:
        if view == View.NORMAL:
            return self.normal
        if view == View.LETTERS:
            return self.letters
        return self.squeezed

    def _map(self) -> _OffsetMap:
        if self._letters_map is None:
            events = []
            for match in _UNEVEN.finditer(self.original):
                code = ord(match.group())
                if code in _TABLE:
                    value = _TABLE[code]
                    width = len(value) if value else 0
                    if width != 1:
                        events.append((match.start(), 1, width))
            self._letters_map = _OffsetMap.build(events)
        return self._letters_map

    def _squeeze_map(self) -> _OffsetMap:
        if self._squeezed_map is None:
            events = [
                (m.start(), m.end() - m.start(), 0) for m in _SEPARATORS.finditer(self.letters)
            ]
            self._squeezed_map = _OffsetMap.build(events)
        return self._squeezed_map

    def letters_index(self, pos: int) -> int:
        """Position in ``letters`` (and ``normal``) of character ``pos`` of ``squeezed``."""
        return self._squeeze_map().source(pos)

    def source_index(self, view: View, pos: int) -> int:
        """Position in the original text of the character ``pos`` of ``view`` came from."""
        if view == View.SQUEEZED:
            pos = self.letters_index(pos)
        return self._map().source(pos)

    def span(self, view: View, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that characters ``start:end`` of ``view`` came from.

        It covers whatever was removed inside it (zero-width characters, separators of the
        squeezed view) and the combining marks that follow its last character.
        """
        if end <= start:
            raise ValueError(f"empty span {start}:{end}")
        first = self.source_index(view, start)
        last = self.source_index(view, end - 1) + 1
        original = self.original
        while last < len(original) and unicodedata.category(original[last]) in ("Mn", "Me"):
            last += 1
        return first, last

    def origins(self, view: View) -> list[tuple[int, int]]:
        """For each character of ``view``, the span of the original text it came from."""
        spans = []
        for pos in range(len(self.view(view))):
            source = self.source_index(view, pos)
            spans.append((source, source + 1))
        return spans


def undo_leet(normal: str) -> str:
    """The letters view of text already in the normal view."""
    return normal.translate(_LEET_TABLE)


def normalize(text: str) -> Normalized:
    """The letters and (lazily) normal and squeezed views of ``text``, with offset maps."""
    if text.isascii() and text.isprintable():
        # What the table does to printable ASCII, 10x sooner (translating ASCII to ASCII
        # is a fast path of str.translate)
        return Normalized(text, text.lower().translate(_LEET_TABLE))
    return Normalized(text, _translate(text, _LETTERS_LIST, _LETTERS_TRANSLATE))
