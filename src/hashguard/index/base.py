"""The interface every signal index implements, and what a search finds.

A signal type gives its index (:meth:`~hashguard.signals.base.SignalType.new_index`); the
code that builds, follows, snapshots and searches indexes (:mod:`hashguard.index.live`,
:mod:`hashguard.index.snapshot`) goes through this interface only. Indexes hold *keys*
(what :meth:`~hashguard.signals.base.SignalType.index_key` makes of a value) with the entry
and bank of each row; the bank's threshold is applied by the caller.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple, Protocol, Self

import numpy as np

from hashguard.index.rows import Rows


class Hit(NamedTuple):  # a tuple: made for every hit, several times sooner than a dataclass
    query: int  # position of the query in the list searched
    entry_pk: int
    bank_id: int
    distance: int  # 0 for an equal key
    # Where in the query it was found, for indexes that search text (a keyword's span).
    where: dict[str, Any] | None = None


@dataclass(frozen=True)
class SearchLimits:
    """How far a search reaches, bank by bank (the enabled banks' own thresholds)."""

    distance: Mapping[int, int]  # per bank: the largest distance a hit may have
    searched_at: int  # the largest of them: what the index is searched at
    settings: Mapping[int, Mapping[str, int]] = field(default_factory=dict)  # all of each bank's
    default: int = -1  # for a bank not in ``distance``: -1, no hit

    @classmethod
    def at(cls, threshold: int) -> SearchLimits:
        """Every bank at one threshold."""
        return cls({}, threshold, default=threshold)

    def limit(self, bank: int) -> int:
        return self.distance.get(bank, self.default)


class Writer(Protocol):
    """Where an index saves its files (a snapshot being written)."""

    def array(self, suffix: str, data: np.ndarray) -> None: ...
    def text(self, suffix: str, data: str) -> None: ...


class Reader(Protocol):
    """Where an index loads its files from (a checked snapshot). A missing file or one of
    another type or shape raises :class:`~hashguard.errors.SnapshotDamaged`."""

    def has(self, suffix: str) -> bool: ...
    def array(
        self, suffix: str, dtype: Any, shape: tuple[int, ...] | None = None
    ) -> np.ndarray: ...
    def text(self, suffix: str) -> str: ...


class SignalIndex(ABC):
    """Rows of (key, entry, bank): built in bulk, then added to and removed from one row at a
    time as the change log is followed, compacted now and then, saved and loaded."""

    kind: ClassVar[str]  # its name in snapshot manifests
    rows: Rows

    @abstractmethod
    def filled(self, keys: Sequence[Any], pks: np.ndarray, banks: np.ndarray) -> Self:
        """An index configured like this one over these rows (``keys[i]`` of entry
        ``pks[i]`` in bank ``banks[i]``): how indexes are built in bulk."""

    @abstractmethod
    def add(self, key: Any, pk: int, bank: int) -> bool:
        """Add one row; False if that (key, entry) is live already."""

    def add_all(self, rows: Sequence[tuple[Any, int, int]]) -> int:
        """:meth:`add` each ``(key, pk, bank)`` in order; returns how many were new. An
        index overrides it where a batch costs much less (the change-log follower's case)."""
        return sum(self.add(key, pk, bank) for key, pk, bank in rows)

    @abstractmethod
    def remove(self, key: Any, pk: int) -> int:
        """Retract entry ``pk``'s rows holding ``key``; returns how many."""

    @abstractmethod
    def search(self, queries: Sequence[Any], threshold: int) -> list[Hit]:
        """Live rows within ``threshold`` of any query (equal ones for exact indexes)."""

    def search_in(self, queries: Sequence[Any], limits: SearchLimits) -> list[Hit]:
        """:meth:`search` within each bank's own limit. An index whose hits depend on more
        than one distance (a video's share of matching frames) applies them itself."""
        found = self.search(queries, limits.searched_at)
        return [h for h in found if h.distance <= limits.limit(h.bank_id)]

    @abstractmethod
    def compact(self) -> Self:
        """A fresh index over the live rows, with nothing in its tail."""

    def prepare(self) -> None:  # noqa: B027 - most indexes need nothing
        """Work to do after changes, on the follower's thread rather than a request's."""

    @abstractmethod
    def save(self, out: Writer) -> dict[str, Any]:
        """Write the index's own files (the rows are saved by the caller); return what
        the manifest must record to load it."""

    @classmethod
    @abstractmethod
    def load(cls, info: dict[str, Any], files: Reader, rows: Rows) -> Self:
        """The index saved with ``info``, over ``rows``."""

    @abstractmethod
    def __len__(self) -> int:
        """Live rows."""

    @property
    def tail_size(self) -> int:
        """Rows added since the index was built."""
        return len(self.rows) - self.rows.n_base

    @property
    @abstractmethod
    def nbytes(self) -> int: ...
