"""The keyword index: the active keyword entries, compiled into Aho-Corasick automata.

Entries change rarely and lists are small (thousands of terms), so every change marks the
matcher stale and the next search (or :meth:`compact`) compiles it afresh from the live
rows; a few thousand terms compile in milliseconds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from hashguard.errors import InvalidSignal, SnapshotDamaged
from hashguard.index.base import Hit, Reader, SignalIndex, Writer
from hashguard.index.exact import FEW
from hashguard.index.rows import Rows
from hashguard.text.keywords import KeywordHit, KeywordMatcher, rule_of

log = logging.getLogger(__name__)


class KeywordIndex(SignalIndex):
    kind = "keyword"

    def __init__(self, values: list[str] | None = None, rows: Rows | None = None) -> None:
        self.values = list(values or [])  # canonical keyword value of each row
        self.rows = rows or Rows(np.empty(0, np.int64), np.empty(0, np.int32))
        self._matcher: KeywordMatcher[int] | None = None
        # value -> its rows, so replaying a change does not scan every row
        self._rows_of: dict[str, list[int]] = {}
        for row, value in enumerate(self.values):
            self._rows_of.setdefault(value, []).append(row)

    @classmethod
    def build(cls, values: list[str], pks: np.ndarray, banks: np.ndarray) -> KeywordIndex:
        return cls(values, Rows(np.asarray(pks, np.int64), np.asarray(banks, np.int32)))

    def filled(self, keys: Sequence[Any], pks: np.ndarray, banks: np.ndarray) -> KeywordIndex:
        built = KeywordIndex.build(list(keys), pks, banks)
        built.matcher()
        return built

    def __len__(self) -> int:
        return self.rows.live_count()

    @property
    def nbytes(self) -> int:
        return sum(len(v) for v in self.values) + 16 * len(self.values)

    def _live(self, value: str, pk: int | None = None) -> np.ndarray:
        found = np.array(self._rows_of.get(value, ()), np.int64)
        if not len(found):
            return found
        pks, _, alive = self.rows.lookup(found)
        keep = alive if pk is None else alive & (pks == pk)
        live: np.ndarray = found[keep]
        return live

    def add(self, value: str, pk: int, bank: int) -> bool:
        if len(self._live(value, pk)):
            return False
        self._rows_of.setdefault(value, []).append(len(self.values))
        self.values.append(value)
        self.rows.append(np.array([pk], np.int64), np.array([bank], np.int32))
        self._matcher = None
        return True

    def remove(self, value: str, pk: int) -> int:
        hit = self._live(value, pk)
        self.rows.kill(hit)
        self._matcher = None
        return len(hit)

    def matcher(self) -> KeywordMatcher[int]:
        if self._matcher is None:
            _, _, alive = self.rows.all()
            rules = []
            for row in np.flatnonzero(alive).tolist():
                try:
                    rules.append((row, rule_of(self.values[row])))
                except InvalidSignal as e:  # stored by a version with other rules
                    log.warning("keyword %r skipped: %s", self.values[row], e.message)
            self._matcher = KeywordMatcher.build(rules)
        return self._matcher

    def prepare(self) -> None:
        self.matcher()  # recompiled here after changes, not on a request thread

    def search(self, queries: Sequence[Any], threshold: int = 0) -> list[Hit]:
        """Keywords found in the ``queries`` (message texts), with where each was found."""
        find = (self._matcher or self.matcher()).find
        if len(queries) == 1:  # one message: the usual question, answered without a loop
            found = find(queries[0])
            return self._hits(0, found) if found else []
        out: list[Hit] = []
        for q, text in enumerate(queries):
            found = find(text)
            if found:
                out.extend(self._hits(q, found))
        return out

    def _hits(self, q: int, found: list[KeywordHit[int]]) -> list[Hit]:
        out = []
        for hit, pk, bank in self.lookup(found):
            where = {"span": [hit.start, hit.end], "matched": hit.matched, "mode": hit.mode.value}
            out.append(Hit(q, pk, bank, 0, where))
        return out

    def lookup(self, hits: list[KeywordHit[int]]) -> list[tuple[KeywordHit[int], int, int]]:
        """The hits of a matcher of this index whose rows are live, with entry and bank."""
        if len(hits) <= FEW:  # a message's hits are few: one row at a time, without numpy
            rows = [(hit, *self.rows.row(hit.key)) for hit in hits]
            return [(hit, pk, bank) for hit, pk, bank, live in rows if live]
        pks, banks, alive = self.rows.lookup(np.array([h.key for h in hits], np.int64))
        return [
            (hit, int(pk), int(bank))
            for hit, pk, bank, live in zip(hits, pks.tolist(), banks.tolist(), alive, strict=True)
            if live
        ]

    def compact(self) -> KeywordIndex:
        pks, banks, alive = self.rows.all()
        rows = np.flatnonzero(alive).tolist()
        fresh = KeywordIndex.build([self.values[r] for r in rows], pks[alive], banks[alive])
        fresh.matcher()
        return fresh

    def save(self, out: Writer) -> dict[str, Any]:
        out.text("values.json", json.dumps(self.values))  # keyword lists are small text
        return {}

    @classmethod
    def load(cls, info: dict[str, Any], files: Reader, rows: Rows) -> KeywordIndex:
        values = json.loads(files.text("values.json"))
        if not isinstance(values, list) or len(values) != len(rows):
            raise SnapshotDamaged(f"values.json: not a list of {len(rows)} values")
        if not all(isinstance(v, str) for v in values):
            raise SnapshotDamaged("values.json: a value that is not text")
        return cls(values, rows)
