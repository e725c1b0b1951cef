"""The indexes of every signal type, kept current by following the change log.

Start-up: load the snapshot if it belongs to this store, then apply the changes logged
since it was taken. No usable snapshot, or too long a backlog, means a rebuild from the
store, which then becomes the new snapshot.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from itertools import repeat
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from hashguard.banks.model import Bank, Change
from hashguard.errors import SnapshotDamaged, UnknownSignalType
from hashguard.index import snapshot
from hashguard.index.entries import EntryCache
from hashguard.index.exact import ExactIndex
from hashguard.index.hamming import HammingIndex
from hashguard.index.keyword import KeywordIndex
from hashguard.signals.base import HexDigestType, SignalType
from hashguard.signals.pdq import MAX_THRESHOLD
from hashguard.signals.registry import Registry
from hashguard.store.store import Store
from hashguard.text.keywords import KeywordHit

log = logging.getLogger(__name__)

Index = ExactIndex | HammingIndex | KeywordIndex

REBUILD_BACKLOG = 200_000  # changes (rows, not sequence numbers); beyond this a rebuild is faster
COMPACT_TAIL = 50_000  # rows added since the tables were built


def index_key(signal_type: SignalType, value: str) -> bytes:
    """What the index stores for a value: its bytes if fixed-width, else a SHA-256 of it."""
    if isinstance(signal_type, HexDigestType):
        return signal_type.to_bytes(value)
    return hashlib.sha256(value.encode()).digest()


def key_width(signal_type: SignalType) -> int:
    return signal_type.nbytes if isinstance(signal_type, HexDigestType) else 32


class Hit(NamedTuple):  # a tuple: made for every hit, several times sooner than a dataclass
    query: int  # position of the query in the list searched
    entry_pk: int
    bank_id: int
    distance: int


class IndexSet:
    def __init__(self, registry: Registry, store_id: str) -> None:
        self.registry = registry
        self.store_id = store_id
        self.indexes: dict[str, Index] = {}
        self.banks: dict[int, Bank] = {}
        self.seq = 0
        self.loaded_from = "empty"
        self.entries = EntryCache()  # matched entries' metadata, forgotten as they change
        # Searches run on request threads while one follower thread (the caller of load,
        # catch_up and rebuild) applies changes: one lock keeps searches from seeing a row
        # half-added. Everything under it is short in-memory work.
        self._lock = threading.Lock()

    # building and loading

    def _empty(self, signal_type: SignalType) -> Index:
        if signal_type.matching == "hamming":
            return HammingIndex(design_threshold=signal_type.default_threshold)
        if signal_type.matching == "keyword":
            return KeywordIndex()
        return ExactIndex(key_width(signal_type))

    def rebuild(self, store: Store) -> None:
        """Build every index from the store's active entries, then swap them in."""
        started = time.perf_counter()
        names = self.registry.names()
        seq, rows = store.active_signals(names)
        grouped: dict[str, tuple[list[Any], list[int], list[int]]] = defaultdict(
            lambda: ([], [], [])
        )
        for type_name, value, pk, bank_id, _ in rows:
            signal_type = self.registry.get(type_name)
            keys, pks, banks = grouped[type_name]
            keyword = signal_type.matching == "keyword"
            keys.append(value if keyword else index_key(signal_type, value))
            pks.append(pk)
            banks.append(bank_id)
        built: dict[str, Index] = {}
        for name in names:
            signal_type = self.registry.get(name)
            keys, pks, banks = grouped.pop(name, ([], [], []))
            pk_array, bank_array = np.array(pks, np.int64), np.array(banks, np.int32)
            if signal_type.matching == "hamming":
                codes = np.frombuffer(b"".join(keys), np.uint8).reshape(-1, key_width(signal_type))
                built[name] = HammingIndex.build(
                    codes, pk_array, bank_array, design_threshold=signal_type.default_threshold
                )
            elif signal_type.matching == "keyword":
                keywords = KeywordIndex.build(keys, pk_array, bank_array)
                keywords.matcher()
                built[name] = keywords
            else:
                built[name] = ExactIndex.build(key_width(signal_type), keys, pk_array, bank_array)
        banks_now = {b.id: b for b in store.banks()}
        with self._lock:
            self.indexes, self.seq, self.banks = built, seq, banks_now
            self.loaded_from = "store"
        self.entries.clear()
        log.info("indexes rebuilt from the store in %.1fs", time.perf_counter() - started)

    def load(self, store: Store, directory: Path | None) -> None:
        """Snapshot + tail of the log if possible, else a rebuild (saved as the new snapshot).

        A damaged snapshot is never served: it is logged, and the rebuild replaces it.
        """
        found = None
        if directory is not None:
            try:
                found = snapshot.load(directory)
            except SnapshotDamaged as e:
                log.warning(
                    "index snapshot %s is damaged (%s): rebuilding from the store", directory, e
                )
        if found is not None:
            manifest, indexes = found
            usable = (
                manifest.store_id == self.store_id
                and set(manifest.types) == set(self.registry.names())
                and store.last_seq() >= manifest.seq
                and store.count_changes_after(manifest.seq, REBUILD_BACKLOG + 1) <= REBUILD_BACKLOG
            )
            if usable and directory is not None:
                self.indexes = indexes
                self.seq = manifest.seq
                self.banks = {b.id: b for b in store.banks()}
                self.loaded_from = "snapshot"
                self.entries.clear()
                applied = self.catch_up(store)
                if applied > COMPACT_TAIL:
                    self.save(directory)
                return
        self.rebuild(store)
        if directory is not None:
            self.save(directory)

    def save(self, directory: Path) -> None:
        self.compact(force=True)
        with self._lock:
            indexes, seq = dict(self.indexes), self.seq
        snapshot.save(directory, self.store_id, seq, indexes)

    def compact(self, *, force: bool = False) -> None:
        # Building the new tables takes seconds at 10M rows, so it happens outside the lock:
        # only this (the follower's) thread changes indexes, request threads only read them.
        for name, index in list(self.indexes.items()):
            if index.tail_size and (force or index.tail_size > COMPACT_TAIL):
                fresh = index.compact()
                with self._lock:
                    self.indexes[name] = fresh

    # following the log

    def catch_up(self, store: Store) -> int:
        """Apply every change logged since ``seq``; returns how many.

        A backlog too long to replay change by change (a bulk import) is a rebuild instead.
        """
        # Counted in rows: sequence numbers taken by a transaction that rolled back (an
        # import killed mid-way, on PostgreSQL) leave a gap that is no backlog at all.
        backlog = store.count_changes_after(self.seq, REBUILD_BACKLOG + 1)
        if backlog > REBUILD_BACKLOG:
            self.rebuild(store)
            return backlog
        applied = 0
        while True:
            batch = store.changes_after(self.seq, limit=10_000)
            if not batch:
                break
            bank_changed = any(c.kind == "bank" for c in batch)
            banks = {b.id: b for b in store.banks()} if bank_changed else None
            with self._lock:
                if banks is not None:
                    self.banks = banks
                self._apply(batch)
            if bank_changed:  # a deleted bank's entries are reported under a new name
                self.entries.clear()
            else:
                self.entries.forget({c.entry_pk for c in batch if c.entry_pk is not None})
            applied += len(batch)
        with self._lock:  # recompile changed keyword lists here, not on a request thread
            for index in self.indexes.values():
                if isinstance(index, KeywordIndex):
                    index.matcher()
        self.compact()
        return applied

    def _apply(self, changes: Iterable[Change]) -> None:
        for change in changes:
            if change.kind in ("add", "retract") and change.signal_type and change.value:
                try:
                    signal_type = self.registry.get(change.signal_type)
                except UnknownSignalType:  # written by a plugin this process does not load
                    log.warning("change %d: unknown signal type %r", change.seq, change.signal_type)
                    self.seq = change.seq
                    continue
                index = self.indexes.setdefault(change.signal_type, self._empty(signal_type))
                assert change.entry_pk is not None
                if isinstance(index, KeywordIndex):
                    if change.kind == "add":
                        index.add(change.value, change.entry_pk, change.bank_id)
                    else:
                        index.remove(change.value, change.entry_pk)
                    self.seq = change.seq
                    continue
                key = index_key(signal_type, change.value)
                if isinstance(index, HammingIndex):
                    code = np.frombuffer(key, np.uint8)
                    if change.kind == "add":
                        index.add(code, change.entry_pk, change.bank_id)
                    else:
                        index.remove(code, change.entry_pk)
                elif change.kind == "add":
                    index.add(key, change.entry_pk, change.bank_id)
                else:
                    index.remove(key, change.entry_pk)
            self.seq = change.seq

    # searching

    def search(self, signal_type: str, values: list[str]) -> list[Hit]:
        """Hits for ``values`` (canonical text) of one type, in enabled banks within each
        bank's threshold."""
        if signal_type not in self.indexes or not values:
            return []
        st = self.registry.get(signal_type)
        return self.search_keys(signal_type, [index_key(st, v) for v in values])

    def search_keys(self, signal_type: str, keys: list[bytes]) -> list[Hit]:
        """Like :meth:`search`, for values already turned into index keys (``index_key``)."""
        if signal_type not in self.indexes or not keys:
            return []
        with self._lock:
            index = self.indexes[signal_type]
            if isinstance(index, KeywordIndex):
                raise TypeError(f"{signal_type} is searched in text: use search_text")
            if isinstance(index, HammingIndex):
                codes = np.frombuffer(b"".join(keys), np.uint8).reshape(len(keys), -1)
                qn, pks, banks, dist = index.search(codes, self.max_threshold())
                found = zip(qn.tolist(), pks.tolist(), banks.tolist(), dist.tolist(), strict=True)
            else:
                queries, entries, bank_ids = index.search(keys)
                if not queries:
                    return []
                found = zip(queries, entries, bank_ids, repeat(0))
        hits = []
        for q, pk, bank_id, d in found:
            bank = self.banks.get(bank_id)
            if bank is None or not bank.enabled:
                continue
            if isinstance(index, HammingIndex) and d > bank.pdq_threshold:
                continue
            hits.append(Hit(q, pk, bank_id, d))
        return _nearest(hits, HITS_PER_QUERY) if len(hits) > HITS_PER_QUERY else hits

    def search_text(self, signal_type: str, text: str) -> list[tuple[KeywordHit[int], Hit]]:
        """Keyword entries of one type found in ``text``, in enabled banks."""
        with self._lock:
            index = self.indexes.get(signal_type)
            if not isinstance(index, KeywordIndex):
                return []
            matcher = index.matcher()
        found = matcher.find(text)  # outside the lock: a compiled matcher is read-only
        if not found:
            return []
        with self._lock:
            rows = index.lookup(found)
        out = []
        for hit, pk, bank_id in rows:
            bank = self.banks.get(bank_id)
            if bank is not None and bank.enabled:
                out.append((hit, Hit(0, pk, bank_id, 0)))
        return out

    def max_threshold(self) -> int:
        enabled = [b.pdq_threshold for b in self.banks.values() if b.enabled]
        # A bank set higher by an older version is searched at the bound (see pdq.py).
        return min(max(enabled, default=0), MAX_THRESHOLD)

    def stats(self) -> dict[str, dict[str, int]]:
        return {
            name: {"size": len(index), "tail": index.tail_size, "bytes": index.nbytes}
            for name, index in self.indexes.items()
        }


# At most this many hits per query value (the nearest), so the work of answering a query
# (entries read, matches reported) is bounded however many entries lie within reach: a
# bank full of near-identical hashes (blank pictures, say) cannot make one query read it all.
HITS_PER_QUERY = 1_000


def _nearest(hits: list[Hit], keep: int) -> list[Hit]:
    by_query: dict[int, list[Hit]] = defaultdict(list)
    for hit in hits:
        by_query[hit.query].append(hit)
    out: list[Hit] = []
    for found in by_query.values():
        found.sort(key=lambda h: (h.distance, h.entry_pk))
        out.extend(found[:keep])
    return out
