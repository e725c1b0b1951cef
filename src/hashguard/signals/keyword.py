"""Keyword lists: terms matched in message text through the usual obfuscations.

A list row's signal is the term, optionally prefixed with its match mode: ``bluefalcon``
(mode ``word``), ``substring:bluefalcon`` or ``squeezed:blue falcon`` (see
:mod:`hashguard.text.keywords`). The canonical form always carries the mode.
"""

from __future__ import annotations

from hashguard.signals.base import SignalType
from hashguard.text.keywords import KeywordMode, KeywordRule, parse_rule

MODES = tuple(m.value for m in KeywordMode)


def split_mode(value: str) -> tuple[str | None, str]:
    head, sep, rest = value.partition(":")
    if sep and head.strip().lower() in MODES:
        return head.strip().lower(), rest
    return None, value


def rule(value: str) -> KeywordRule:
    """The rule a canonical keyword value stands for."""
    mode, term = split_mode(value)
    return parse_rule(term, mode)


class Keyword(SignalType):
    name = "keyword"
    matching = "keyword"

    def parse(self, raw: str) -> str:
        checked = rule(raw)
        return f"{checked.mode.value}:{checked.term}"
