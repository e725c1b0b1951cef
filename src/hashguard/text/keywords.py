"""Keyword lists matched against chat messages, through the usual obfuscations.

A hotline's keyword list is a set of terms; each becomes a ``KeywordRule`` with a mode:

``word`` (the default)
    The term matches as a whole word: in the ``normal`` view of the message (case, accents,
    combining marks, zero-width characters, full-width and look-alike letters undone) or in
    its ``letters`` view (leetspeak undone as well), never as part of a longer word. Scripts
    written without spaces (Chinese, Japanese, Thai, Lao, Khmer, Myanmar) have no word
    boundaries to respect, so there a word term matches anywhere. It also matches spelled
    letter by letter: its letters and digits each a token of one character, whatever the
    separators ("z o r b l a x", "z.o.r.b.l.a.x", "Z-O-R-B-L-A-X"), as long as the spelling
    begins or ends its run of one-character tokens: "a z o r b l a x" matches (a one-letter
    word next to it does not hide it), "q z o r b l a x q" does not (a term in the middle of
    a longer run of single letters, such as a recited alphabet, is not taken).
``substring``
    The term matches anywhere in the ``normal`` or ``letters`` view, even inside a word,
    and spelled letter by letter as a ``word`` term. For coded strings that are glued to
    other text.
``squeezed``
    As ``word``, and also spelled out with separators: "b a d w o r d", "b.a.d-w_o_r_d" or
    "bad word" match "badword". The term's letters and digits are looked for in the
    ``squeezed`` view (everything but letters and digits removed); a match counts only if
    it starts and ends at word boundaries of the ``letters`` view, so "xbad word" or
    "badwordy" do not match.

``KeywordMatcher.build`` compiles the rules' letters forms into one Aho-Corasick automaton
and their squeezed forms into another (pyahocorasick): a rule's normal form lies where its
letters form is, so one scan of the ``letters`` view finds both; one scan of the
``squeezed`` view finds squeezed rules and the letter-by-letter spellings of the others.
``find`` normalises a message once and scans two views once each, so the cost is linear in
the message and barely depends on the number of rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

import ahocorasick  # type: ignore[import-not-found, unused-ignore]

from hashguard.errors import InvalidSignal
from hashguard.text.normalize import Normalized, View, normalize, undo_leet

__all__ = [
    "MAX_TERM_LENGTH",
    "MIN_NORMALIZED_LENGTH",
    "KeywordHit",
    "KeywordMatcher",
    "KeywordMode",
    "KeywordRule",
    "parse_rule",
]

K = TypeVar("K")

MAX_TERM_LENGTH = 200
MIN_NORMALIZED_LENGTH = 3
DEFAULT_HIT_LIMIT = 1000


class KeywordMode(StrEnum):
    """How a term must appear in a message; see the module docstring."""

    WORD = "word"
    SUBSTRING = "substring"
    SQUEEZED = "squeezed"


_MODES = frozenset(m.value for m in KeywordMode)
_NOT_ALNUM = re.compile(r"[\W_]+")
# Scripts written without spaces between words.
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]"
)


def _is_word_char(char: str) -> bool:
    return char.isalnum() and _UNSPACED.match(char) is None


def _bounded(message: Normalized, view: View, start: int, end: int) -> bool:
    """True if ``start:end`` of ``view`` (normal or letters) neither continues nor is continued
    by a word. The letters view reads "@" and "$" as letters; a neighbour counts as part of
    the word only if it is a letter or digit in the normal view as well, so "@b1uefalcon"
    still starts a word.
    """
    normal = message.normal
    text = normal if view == View.NORMAL else message.letters

    def joins(outside: int, inside: int) -> bool:
        return (
            _is_word_char(text[inside])
            and _is_word_char(text[outside])
            and _is_word_char(normal[outside])
        )

    if start > 0 and joins(start - 1, start):
        return False
    return not (end < len(text) and joins(end, end - 1))


@dataclass(frozen=True, slots=True)
class KeywordRule:
    """One term of a keyword list and how it must appear; invalid ones raise InvalidSignal.

    ``normal``, ``letters`` and ``squeezed`` are the term's forms in the message views of
    the same names (see ``hashguard.text.normalize``).
    """

    term: str
    mode: KeywordMode = KeywordMode.WORD
    normal: str = field(init=False, repr=False, compare=False)
    letters: str = field(init=False, repr=False, compare=False)
    squeezed: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.term, str):
            raise InvalidSignal(f"keyword must be text, got {type(self.term).__name__}")
        term = self.term.strip()
        if not term:
            raise InvalidSignal("keyword is empty")
        if len(term) > MAX_TERM_LENGTH:
            raise InvalidSignal(
                f"keyword is {len(term)} characters long; the limit is {MAX_TERM_LENGTH}"
            )
        mode = _parse_mode(self.mode)
        normal = " ".join(normalize(term).normal.split())
        letters = undo_leet(normal)
        squeezed = _NOT_ALNUM.sub("", letters)
        significant = squeezed if mode is KeywordMode.SQUEEZED else normal
        if len(significant) < MIN_NORMALIZED_LENGTH:
            what = "letters and digits" if mode is KeywordMode.SQUEEZED else "characters"
            raise InvalidSignal(
                f"keyword {term!r} normalises to {significant!r}, {len(significant)} {what}; "
                f"at least {MIN_NORMALIZED_LENGTH} are needed or it would match almost "
                "every message"
            )
        object.__setattr__(self, "term", term)
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "normal", normal)
        object.__setattr__(self, "letters", letters)
        object.__setattr__(self, "squeezed", squeezed)


def _parse_mode(mode: object) -> KeywordMode:
    if isinstance(mode, KeywordMode):
        return mode
    name = mode.strip().lower() if isinstance(mode, str) else None
    if name in _MODES:
        return KeywordMode(name)
    valid = ", ".join(m.value for m in KeywordMode)
    raise InvalidSignal(f"unknown keyword mode {mode!r}; use one of: {valid}")


def parse_rule(value: str, mode: str | None = None) -> KeywordRule:
    """A rule from list data: ``value`` is the term, ``mode`` None or empty means ``word``."""
    return KeywordRule(value, _parse_mode(mode) if mode else KeywordMode.WORD)


def split_mode(value: str) -> tuple[str | None, str]:
    """``squeezed:blue falcon`` -> (``squeezed``, ``blue falcon``); no known mode -> None."""
    head, sep, rest = value.partition(":")
    if sep and head.strip().lower() in _MODES:
        return head.strip().lower(), rest
    return None, value


def rule_of(value: str) -> KeywordRule:
    """The rule a keyword list value (``term`` or ``mode:term``) stands for."""
    mode, term = split_mode(value)
    return parse_rule(term, mode)


@dataclass(frozen=True, slots=True)
class KeywordHit(Generic[K]):
    """One rule found in one message.

    ``start:end`` is the span of the original message (``text[start:end]`` is what the
    sender wrote, zero-width characters and separators included); ``matched`` is the
    normalised form of the term that matched, in the view it matched in.
    """

    key: K
    start: int
    end: int
    matched: str
    mode: KeywordMode


# Three or more tokens of one letter or digit each, with separators between them.
_RUN = re.compile(r"(?<![^\W_])[^\W_](?:[\W_]++[^\W_](?![^\W_])){2,}")


def _isolated(letters: str, i: int) -> bool:
    """True if character ``i`` of the letters view is a token of one letter or digit."""
    return (i == 0 or not letters[i - 1].isalnum()) and (
        i + 1 == len(letters) or not letters[i + 1].isalnum()
    )


def _spelled(message: Normalized, start: int, end: int) -> tuple[int, int] | None:
    """The letters-view span of ``start:end`` of the squeezed view if it is spelled letter
    by letter (each of its characters a token of its own) and begins or ends its run of
    such tokens; else None.

    Each squeezed character's neighbours in the squeezed view are the letters or digits
    next to it in the letters view, so the run is followed through the squeezed view's map,
    in time independent of the separators' length.
    """
    letters, index = message.letters, message.letters_index
    first = index(start)
    if not _isolated(letters, first):
        return None  # most hits: inside a longer word
    # Then the ends of the run, which rule out the places inside one in two steps.
    at_start = start == 0 or not _isolated(letters, index(start - 1))
    if not at_start and end < len(message.squeezed) and _isolated(letters, index(end)):
        return None
    for pos in range(start + 1, end):
        if not _isolated(letters, index(pos)):
            return None
    return first, index(end - 1) + 1


def _spellable(rule: KeywordRule) -> bool:
    """Whether a word or substring rule is also looked for spelled letter by letter."""
    return rule.mode is not KeywordMode.SQUEEZED and len(rule.squeezed) >= MIN_NORMALIZED_LENGTH


def _automaton(forms: list[str | None], spelled: list[str | None] | None = None) -> Any:
    """The rules' forms in one view in one Aho-Corasick automaton, None if there are none.

    ``forms[i]`` is rule i's form, None if it is not looked for in this view;
    ``spelled[i]`` its form spelled letter by letter, recorded as index ``~i``. Scanning a
    text gives ``(last, (length, rule indexes))``: the occurrence ends at ``last``
    inclusive (read straight from pyahocorasick's iterator: a wrapping generator costs a
    microsecond a message).
    """
    terms: dict[str, list[int]] = {}
    for index, form in enumerate(forms):
        if form is not None:
            terms.setdefault(form, []).append(index)
    for index, form in enumerate(spelled or ()):
        if form is not None:
            terms.setdefault(form, []).append(~index)
    if not terms:
        return None
    automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY, ahocorasick.KEY_STRING)
    for term, rules in terms.items():
        automaton.add_word(term, (len(term), tuple(rules)))
    automaton.make_automaton()
    return automaton


class KeywordMatcher(Generic[K]):
    """Finds the rules of a keyword list in messages. Build once, share between threads."""

    __slots__ = ("_keys", "_letters", "_rules", "_squeezed")

    def __init__(self, keys: list[K], rules: list[KeywordRule]) -> None:
        self._keys = keys
        self._rules = rules
        # One scan of the letters view finds every rule's normal form too: ``letters`` is
        # ``normal`` with single characters replaced, so where ``normal`` holds a rule's
        # normal form, ``letters`` holds its letters form at the same place.
        self._letters = _automaton([r.letters for r in rules])
        # The squeezed view holds squeezed rules' forms, and every other rule's form spelled
        # letter by letter ("z o r b l a x"): looked for in the same scan, told apart by
        # the sign of the index (~index for a spelled-out word or substring rule).
        self._squeezed = _automaton(
            [r.squeezed if r.mode is KeywordMode.SQUEEZED else None for r in rules],
            [r.squeezed if _spellable(r) else None for r in rules],
        )

    @classmethod
    def build(cls, entries: Iterable[tuple[K, KeywordRule]]) -> KeywordMatcher[K]:
        """A matcher for ``(key, rule)`` pairs; several keys may share a term."""
        keys: list[K] = []
        rules: list[KeywordRule] = []
        for key, rule in entries:
            keys.append(key)
            rules.append(rule)
        return cls(keys, rules)

    def __len__(self) -> int:
        return len(self._rules)

    def find(self, text: str, *, limit: int | None = DEFAULT_HIT_LIMIT) -> list[KeywordHit[K]]:
        """Every rule found in ``text``, in order of position; at most ``limit`` hits.

        A rule found at the same span in several views is reported once.
        """
        if not self._rules or not text:
            return []
        message = normalize(text)
        hits: dict[tuple[int, int, int], KeywordHit[K]] = {}
        for last, (length, indexes) in self._letters.iter(message.letters):
            start, end = last + 1 - length, last + 1
            written = message.normal[start:end]
            for index in indexes:
                rule = self._rules[index]
                # Where a rule's normal form is, it is found in the normal view: a word
                # boundary of the letters view is one of the normal view too, so that alone
                # decides. Elsewhere only its letters form is there.
                view = View.NORMAL if rule.normal == written else View.LETTERS
                if rule.mode is KeywordMode.SUBSTRING or _bounded(message, view, start, end):
                    matched = written if view == View.NORMAL else message.letters[start:end]
                    self._add(hits, message, view, index, start, end, matched)
            if limit is not None and len(hits) >= limit:
                return self._sorted(hits, limit)
        if self._squeezed is not None:
            spelled: list[tuple[int, int, tuple[int, ...]]] | None = None
            for last, (length, indexes) in self._squeezed.iter(message.squeezed):
                start, end = last + 1 - length, last + 1
                if indexes[0] >= 0:  # a squeezed rule's (they come before the spelled-out ones)
                    first = message.letters_index(start)
                    last = message.letters_index(end - 1) + 1
                    if _bounded(message, View.LETTERS, first, last):
                        matched = message.squeezed[start:end]
                        for index in indexes:  # the letters span maps to the same original
                            if index >= 0:
                                self._add(hits, message, View.LETTERS, index, first, last, matched)
                if indexes[-1] < 0:
                    if spelled is None:
                        spelled = []
                    spelled.append((start, end, indexes))
                if limit is not None and len(hits) >= limit:
                    break
            if spelled:
                self._add_spelled(hits, message, spelled)
        return self._sorted(hits, limit) if hits else []

    def _add_spelled(
        self,
        hits: dict[tuple[int, int, int], KeywordHit[K]],
        message: Normalized,
        found: list[tuple[int, int, tuple[int, ...]]],
    ) -> None:
        """Add the places of the squeezed view where a word or substring rule's form is
        spelled letter by letter.

        A term written plainly is in the squeezed view too, and that is what most of these
        places are: a form found no more often in the squeezed view than it occurs in the
        letters view is only there plainly (each plain occurrence gives one in the squeezed
        view), and a message without a run of three one-character tokens has no spelling.
        Both are answered sooner than mapping the squeezed view back.
        """
        squeezed, letters = message.squeezed, message.letters
        times: dict[str, int] = {}
        for start, end, _ in found:
            form = squeezed[start:end]
            times[form] = times.get(form, 0) + 1
        more = {form for form, n in times.items() if n > letters.count(form)}
        if not more or _RUN.search(letters) is None:
            return
        for start, end, indexes in found:
            form = squeezed[start:end]
            if form in more and (span := _spelled(message, start, end)) is not None:
                for index in indexes:
                    if index < 0:
                        self._add(hits, message, View.LETTERS, ~index, *span, form)

    def _add(
        self,
        hits: dict[tuple[int, int, int], KeywordHit[K]],
        message: Normalized,
        view: View,
        index: int,
        start: int,
        end: int,
        matched: str,
    ) -> None:
        first, last = message.span(view, start, end)
        if (index, first, last) not in hits:
            rule = self._rules[index]
            hits[(index, first, last)] = KeywordHit(
                self._keys[index], first, last, matched, rule.mode
            )

    @staticmethod
    def _sorted(
        hits: dict[tuple[int, int, int], KeywordHit[K]], limit: int | None
    ) -> list[KeywordHit[K]]:
        ordered = [hits[k] for k in sorted(hits, key=lambda k: (k[1], k[2], k[0]))]
        return ordered if limit is None else ordered[:limit]
