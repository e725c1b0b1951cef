"""Keyword lists: terms matched in message text through the usual obfuscations.

A list row's signal is the term, optionally prefixed with its match mode: ``bluefalcon``
(mode ``word``), ``substring:bluefalcon`` or ``squeezed:blue falcon`` (see
:mod:`hashguard.text.keywords`). The canonical form always carries the mode.
"""

from __future__ import annotations

import random
import string
from typing import Any

from hashguard.index.base import SignalIndex
from hashguard.index.keyword import KeywordIndex
from hashguard.signals.base import SignalType, TextQueries
from hashguard.text.keywords import KeywordMode, rule_of


class Keyword(SignalType):
    name = "keyword"
    matching = "keyword"
    in_text = "message"

    def index_key(self, value: str) -> Any:
        return value  # the keyword index compiles the terms themselves

    def new_index(self) -> SignalIndex:
        return KeywordIndex()

    def text_queries(self, message: Any) -> TextQueries | None:
        return message  # type: ignore[no-any-return]  # a Message is its own text's query

    def parse(self, raw: str) -> str:
        checked = rule_of(raw)
        return f"{checked.mode.value}:{checked.term}"

    def examples(self, rng: random.Random, count: int) -> list[str]:
        found: set[str] = set()
        modes = [m.value for m in KeywordMode]
        while len(found) < count:
            term = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(6, 10)))
            found.add(self.parse(f"{rng.choice(modes)}:{term}"))
        return sorted(found)
