"""Exact-match index for fixed-width digests (md5, sha1, sha256, photodna, ...).

The bulk of the rows is one sorted numpy array of fixed-width byte strings searched by
bisection: 16-32 bytes per hash plus the row bookkeeping, against ~150 bytes per key in a
Python dict. Rows added since the last build go into a small dict; ``compact`` folds them in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hashguard.index.base import Hit, Reader, SignalIndex, Writer
from hashguard.index.keyfilter import KeyFilter
from hashguard.index.rows import Rows

FEW = 4  # keys (and rows) looked up one by one rather than through vectorised numpy calls


class ExactIndex(SignalIndex):
    kind = "exact"

    def __init__(
        self,
        width: int,
        keys: np.ndarray | None = None,
        rows: Rows | None = None,
        key_filter: KeyFilter | None = None,
    ) -> None:
        self.width = width
        self.keys = np.empty(0, dtype=f"S{width}") if keys is None else keys
        self.rows = rows or Rows(np.empty(0, np.int64), np.empty(0, np.int32))
        self.tail: dict[bytes, list[int]] = {}
        # Over the base keys (the tail is a dict already); None for keys under 8 bytes.
        self.filter = key_filter
        if key_filter is None and width >= 8:
            self.filter = KeyFilter.build(self.keys)

    @classmethod
    def build(
        cls, width: int, keys: list[bytes] | np.ndarray, pks: np.ndarray, banks: np.ndarray
    ) -> ExactIndex:
        array = np.asarray(keys, dtype=f"S{width}")
        order = np.argsort(array, kind="stable")
        rows = Rows(np.asarray(pks, np.int64)[order], np.asarray(banks, np.int32)[order])
        return cls(width, array[order], rows)

    def filled(self, keys: Sequence[Any], pks: np.ndarray, banks: np.ndarray) -> ExactIndex:
        return type(self).build(self.width, list(keys), pks, banks)

    def __len__(self) -> int:
        return self.rows.live_count()

    def _rows_of(self, key: bytes) -> np.ndarray:
        probe = np.array(key, dtype=f"S{self.width}")
        lo = int(np.searchsorted(self.keys, probe, side="left"))
        hi = int(np.searchsorted(self.keys, probe, side="right"))
        found = list(range(lo, hi))
        found.extend(self.tail.get(key, ()))
        return np.array(found, dtype=np.int64)

    def search(self, queries: Sequence[Any], threshold: int = 0) -> list[Hit]:
        queries_found, pks, banks = self.equal(queries)
        if not pks:  # nearly every search
            return []
        return [Hit(q, pk, bank, 0) for q, pk, bank in zip(queries_found, pks, banks, strict=True)]

    def equal(self, keys: Sequence[bytes]) -> tuple[list[int], list[int], list[int]]:
        """Live rows equal to any key: query numbers, pks and banks (Python lists: a search
        finds a row or two, and numpy arrays of those would cost more than the search)."""
        qn: list[int] = []
        rows: list[int] = []
        key_filter = self.filter
        maybe: list[int]
        if not len(self.keys):
            maybe = []
        elif key_filter is None:
            maybe = list(range(len(keys)))
        else:
            maybe = key_filter.passing(keys)
        if len(maybe) <= FEW:
            # A message's URL usually leaves one key, or none: a numpy call each is cheaper
            # than the ten of the vectorised path.
            for i in maybe:
                a = b = int(self.keys.searchsorted(keys[i]))
                while b < len(self.keys) and self.keys[b : b + 1].tobytes() == keys[i]:
                    b += 1
                qn.extend([i] * (b - a))
                rows.extend(range(a, b))
        else:
            # One vectorised bisection for the keys that may be there; the end of each run
            # of equal keys only for those found.
            probes = np.array([keys[i] for i in maybe], dtype=self.keys.dtype)
            lo = np.searchsorted(self.keys, probes)
            equal = self.keys[np.minimum(lo, len(self.keys) - 1)] == probes
            if equal.any():
                hits = np.flatnonzero(equal)
                hi = np.searchsorted(self.keys, probes[hits], side="right")
                for j, a, b in zip(hits.tolist(), lo[hits].tolist(), hi.tolist(), strict=True):
                    qn.extend([maybe[j]] * (b - a))
                    rows.extend(range(a, b))
        if self.tail:
            for i, key in enumerate(keys):
                for row in self.tail.get(key, ()):
                    qn.append(i)
                    rows.append(row)
        if not rows:
            return [], [], []
        if len(rows) <= FEW:
            found = [(q, *self.rows.row(r)) for q, r in zip(qn, rows, strict=True)]
        else:
            pks, banks, alive = self.rows.lookup(np.array(rows, np.int64))
            found = list(zip(qn, pks.tolist(), banks.tolist(), alive.tolist(), strict=True))
        live = [(q, pk, bank) for q, pk, bank, alive in found if alive]
        return [x[0] for x in live], [x[1] for x in live], [x[2] for x in live]

    def add(self, key: bytes, pk: int, bank: int) -> bool:
        if len(self.rows.live_of(self._rows_of(key), pk)):
            return False
        self.tail.setdefault(key, []).append(len(self.rows))
        self.rows.append(np.array([pk], np.int64), np.array([bank], np.int32))
        return True

    def remove(self, key: bytes, pk: int) -> int:
        return self.rows.kill_entry(self._rows_of(key), pk)

    def compact(self) -> ExactIndex:
        tail_keys = [b""] * (len(self.rows) - self.rows.n_base)
        for key, positions in self.tail.items():
            for p in positions:
                tail_keys[p - self.rows.n_base] = key
        keys = np.concatenate([self.keys, np.array(tail_keys, dtype=f"S{self.width}")])
        pks, banks, alive = self.rows.all()
        return type(self).build(self.width, keys[alive], pks[alive], banks[alive])

    def save(self, out: Writer) -> dict[str, Any]:
        out.array("keys.npy", self.keys)
        if self.filter is not None:
            out.array("filter.npy", self.filter.array)
        return {"width": self.width}

    @classmethod
    def load(cls, info: dict[str, Any], files: Reader, rows: Rows) -> ExactIndex:
        width = int(info["width"])
        keys = files.array("keys.npy", f"S{width}", (len(rows),))
        key_filter = (
            KeyFilter(files.array("filter.npy", np.uint8)) if files.has("filter.npy") else None
        )
        return cls(width, keys, rows, key_filter)

    @property
    def nbytes(self) -> int:
        r = self.rows
        filtered = self.filter.array.nbytes if self.filter is not None else 0
        return int(
            self.keys.nbytes
            + filtered
            + r.base_pks.nbytes
            + r.base_banks.nbytes
            + r.base_alive.nbytes
        )
