"""Row bookkeeping shared by the indexes: who each row belongs to and whether it is live.

Rows are numbered base first (built in bulk, possibly memory-mapped from a snapshot), then
tail (added one by one since). Retraction clears a row's ``alive`` flag; compaction drops
dead rows when the index is rebuilt.
"""

from __future__ import annotations

import numpy as np


class Growable:
    """A numpy array that can be appended to in amortised O(1)."""

    def __init__(self, dtype: np.dtype | type, shape: tuple[int, ...] = ()) -> None:
        self._data = np.empty((64, *shape), dtype=dtype)
        self.n = 0

    def extend(self, values: np.ndarray) -> None:
        need = self.n + len(values)
        if need > len(self._data):
            bigger = np.empty(
                (max(need, 2 * len(self._data)), *self._data.shape[1:]), self._data.dtype
            )
            bigger[: self.n] = self._data[: self.n]
            self._data = bigger
        self._data[self.n : need] = values
        self.n = need

    @property
    def array(self) -> np.ndarray:
        return self._data[: self.n]


class Rows:
    """Entry primary key, bank id and liveness of every row, base then tail."""

    def __init__(self, pks: np.ndarray, banks: np.ndarray, alive: np.ndarray | None = None) -> None:
        self.base_pks = pks
        self.base_banks = banks
        self.base_alive = np.ones(len(pks), bool) if alive is None else np.array(alive, bool)
        self.tail_pks = Growable(np.int64)
        self.tail_banks = Growable(np.int32)
        self.tail_alive = Growable(np.bool_)

    @property
    def n_base(self) -> int:
        return len(self.base_pks)

    def __len__(self) -> int:
        return self.n_base + self.tail_pks.n

    def live_count(self) -> int:
        return int(self.base_alive.sum() + self.tail_alive.array.sum())

    def append(self, pks: np.ndarray, banks: np.ndarray) -> None:
        self.tail_pks.extend(pks)
        self.tail_banks.extend(banks)
        self.tail_alive.extend(np.ones(len(pks), bool))

    def _split(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        in_base = rows < self.n_base
        return rows[in_base], rows[~in_base] - self.n_base

    def lookup(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """pks, banks and alive flags of ``rows`` (in the same order)."""
        if self.tail_pks.n == 0:
            return self.base_pks[rows], self.base_banks[rows], self.base_alive[rows]
        in_base = rows < self.n_base
        tail = rows[~in_base] - self.n_base
        out = []
        for base_col, tail_col in (
            (self.base_pks, self.tail_pks),
            (self.base_banks, self.tail_banks),
            (self.base_alive, self.tail_alive),
        ):
            col = np.empty(len(rows), dtype=base_col.dtype)
            col[in_base] = base_col[rows[in_base]]
            col[~in_base] = tail_col.array[tail]
            out.append(col)
        return out[0], out[1], out[2]

    def row(self, row: int) -> tuple[int, int, bool]:
        """pk, bank and alive flag of one row (:meth:`lookup` for many)."""
        if row < self.n_base:
            return int(self.base_pks[row]), int(self.base_banks[row]), bool(self.base_alive[row])
        row -= self.n_base
        return (
            int(self.tail_pks.array[row]),
            int(self.tail_banks.array[row]),
            bool(self.tail_alive.array[row]),
        )

    def live_of(self, rows: np.ndarray, pk: int) -> np.ndarray:
        """Those of ``rows`` that are live and of entry ``pk``."""
        if not len(rows):
            return rows
        pks, _, alive = self.lookup(rows)
        found: np.ndarray = rows[(pks == pk) & alive]
        return found

    def kill_entry(self, rows: np.ndarray, pk: int) -> int:
        """Retract entry ``pk``'s live rows among ``rows``; returns how many."""
        hit = self.live_of(rows, pk)
        self.kill(hit)
        return len(hit)

    def kill(self, rows: np.ndarray) -> None:
        base, tail = self._split(rows)
        self.base_alive[base] = False
        self.tail_alive.array[tail] = False

    def all(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.concatenate([self.base_pks, self.tail_pks.array]),
            np.concatenate([self.base_banks, self.tail_banks.array]),
            np.concatenate([self.base_alive, self.tail_alive.array]),
        )
