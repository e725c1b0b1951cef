"""The entries that matched lately, in memory, kept current by the change-log follower.

A hit is reported with its entry's bank, id and metadata, which live in the store. Reading
them on every hit puts a database round trip on the request path, while a known item that
spreads matches the same entry again and again; so the entries read last are kept here.

The follower that brings the indexes up to date forgets an entry when the log shows it
changed (``add``, ``retract``, ``update``) and everything when a bank changes, so an entry
here is never staler than the indexes: a retraction stops matching on a process once its
follower applies it (within a second), and at once on the process that wrote it
(:meth:`clear` runs after each of its store's writes).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Protocol

from hashguard.banks.model import Entry

CAPACITY = 50_000  # entries; each is well under 1 KB


class Loader(Protocol):  # Store.entries
    def __call__(self, pks: Sequence[int], *, signals: bool) -> dict[int, Entry]: ...


class EntryCache:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        # pk -> (entry, whether it was read with its signals)
        self._entries: OrderedDict[int, tuple[Entry, bool]] = OrderedDict()
        self._lock = threading.Lock()
        # Bumped by every forget/clear: an entry read from the store while one happened may
        # predate it, so it is returned but not kept.
        self._generation = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, pks: Iterable[int], load: Loader, *, signals: bool = False) -> dict[int, Entry]:
        """The entries ``pks`` (those the store has), reading the ones not kept with ``load``.

        ``signals``: the entries' signals are needed too (a PDQ match reports their
        quality); an entry kept without them is read again.
        """
        found: dict[int, Entry] = {}
        missing: list[int] = []
        with self._lock:
            for pk in set(pks):
                kept = self._entries.get(pk)
                if kept is not None and (kept[1] or not signals):
                    self._entries.move_to_end(pk)
                    found[pk] = kept[0]
                else:
                    missing.append(pk)
            generation = self._generation
            self.hits += len(found)
            self.misses += len(missing)
        if not missing:
            return found
        loaded = load(missing, signals=signals)
        with self._lock:
            if generation == self._generation:
                for pk, entry in loaded.items():
                    self._entries[pk] = (entry, signals)
                    self._entries.move_to_end(pk)
                while len(self._entries) > self.capacity:
                    self._entries.popitem(last=False)
        found.update(loaded)
        return found

    def forget(self, pks: Iterable[int]) -> None:
        with self._lock:
            self._generation += 1
            for pk in pks:
                self._entries.pop(pk, None)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
