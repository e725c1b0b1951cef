"""The indexes of every signal type, kept current by following the change log.

Start-up: load the snapshot if it belongs to this store, then apply the changes logged
since it was taken. No usable snapshot, or too long a backlog, means a rebuild from the
store, which then becomes the new snapshot.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hashguard.banks.model import Bank, Change
from hashguard.errors import SnapshotDamaged, UnknownSignalType
from hashguard.index import snapshot
from hashguard.index.base import Hit, SearchLimits, SignalIndex
from hashguard.index.entries import EntryCache
from hashguard.signals.registry import Registry
from hashguard.store.repositories import ChangeLog

log = logging.getLogger(__name__)

CATCH_UP_BATCH = 10_000  # changes read at a time
REBUILD_BACKLOG = 200_000  # changes (rows, not sequence numbers); beyond this a rebuild is faster
COMPACT_TAIL = 50_000  # rows added since the tables were built


class IndexSet:
    def __init__(self, registry: Registry, store_id: str) -> None:
        self.registry = registry
        self.store_id = store_id
        self.indexes: dict[str, SignalIndex] = {}
        self._banks: dict[int, Bank] = {}
        # Per signal type, the threshold of each enabled bank (what a search filters by) and
        # the largest of them (what the index is searched at): one lookup per search.
        self._limits: dict[str, SearchLimits] = {}
        self.seq = 0
        self.policy_changes = 0  # policy changes seen in the log (the engine reloads on one)
        self.loaded_from = "empty"
        self.entries = EntryCache()  # matched entries' metadata, forgotten as they change
        # Searches run on request threads while one follower thread (the caller of load,
        # catch_up and rebuild) applies changes: one lock keeps searches from seeing a row
        # half-added. Everything under it is short in-memory work.
        self._lock = threading.Lock()

    # building and loading

    @property
    def banks(self) -> dict[int, Bank]:
        return self._banks

    @banks.setter
    def banks(self, banks: dict[int, Bank]) -> None:
        """Set under the lock (or before searches start)."""
        self._banks = banks
        self._limits = {}
        for signal_type in self.registry.types():
            limits = {}
            for bank in banks.values():
                if bank.enabled:
                    own = bank.threshold(signal_type.name)
                    # A bank set higher by an older version is searched at the bound.
                    limits[bank.id] = min(
                        signal_type.default_threshold if own is None else own,
                        signal_type.max_threshold,
                    )
            self._limits[signal_type.name] = SearchLimits(
                limits,
                max(limits.values(), default=0),
                {b.id: b.thresholds for b in banks.values() if b.enabled},
            )

    def rebuild(self, store: ChangeLog) -> None:
        """Build every index from the store's active entries, then swap them in."""
        started = time.perf_counter()
        self.policy_changes += 1  # the changes skipped may hold one: the engine rereads it
        names = self.registry.names()
        seq, rows = store.active_signals(names)
        grouped: dict[str, tuple[list[Any], list[int], list[int]]] = defaultdict(
            lambda: ([], [], [])
        )
        for type_name, value, pk, bank_id, _ in rows:
            keys, pks, banks = grouped[type_name]
            keys.append(self.registry.get(type_name).index_key(value))
            pks.append(pk)
            banks.append(bank_id)
        built: dict[str, SignalIndex] = {}
        for name in names:
            keys, pks, banks = grouped.pop(name, ([], [], []))
            built[name] = (
                self.registry.get(name)
                .new_index()
                .filled(keys, np.array(pks, np.int64), np.array(banks, np.int32))
            )
        banks_now = {b.id: b for b in store.banks()}
        with self._lock:
            self.indexes, self.seq, self.banks = built, seq, banks_now
            self.loaded_from = "store"
        self.entries.clear()
        log.info("indexes rebuilt from the store in %.1fs", time.perf_counter() - started)

    def load(self, store: ChangeLog, directory: Path | None) -> None:
        """Snapshot + tail of the log if possible, else a rebuild (saved as the new snapshot).

        A damaged snapshot is never served: it is logged, and the rebuild replaces it.
        """
        found = None
        if directory is not None:
            try:
                found = snapshot.load(directory, self.registry)
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

    def catch_up(self, store: ChangeLog) -> int:
        """Apply every change logged since ``seq``; returns how many.

        A backlog too long to replay change by change (a bulk import) is a rebuild instead.
        """
        # One query in the common case (a few changes): the backlog is counted only when a
        # whole batch came back. Counted in rows: sequence numbers taken by a transaction
        # that rolled back (an import killed mid-way, on PostgreSQL) leave a gap that is no
        # backlog at all.
        limit = min(CATCH_UP_BATCH, REBUILD_BACKLOG + 1)
        applied = 0
        while batch := store.changes_after(self.seq, limit=limit):
            if not applied and len(batch) == limit:
                backlog = store.count_changes_after(self.seq, REBUILD_BACKLOG + 1)
                if backlog > REBUILD_BACKLOG:
                    self.rebuild(store)
                    return backlog
            bank_changed = any(c.kind == "bank" for c in batch)
            self.policy_changes += sum(c.kind == "policy" for c in batch)
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
            if len(batch) < limit:  # the log's end (writers commit in sequence order)
                break
        if applied:
            with self._lock:  # e.g. recompile keyword lists here, not on a request thread
                for index in self.indexes.values():
                    index.prepare()
        self.compact()
        return applied

    def _apply(self, changes: Iterable[Change]) -> None:
        # Adds are applied per index in batches (add_all), each flushed before a retract
        # on its index so that order within an index holds. ``seq`` moves only once all is
        # applied: after a failure the round is replayed, and replaying is idempotent.
        adds: dict[str, list[tuple[Any, int, int]]] = {}
        last = self.seq
        for change in changes:
            last = change.seq
            if change.kind not in ("add", "retract") or not change.signal_type or not change.value:
                continue
            try:
                signal_type = self.registry.get(change.signal_type)
            except UnknownSignalType:  # written by a plugin this process does not load
                log.warning("change %d: unknown signal type %r", change.seq, change.signal_type)
                continue
            name = change.signal_type
            index = self.indexes.get(name)
            if index is None:
                index = self.indexes[name] = signal_type.new_index()
            assert change.entry_pk is not None
            key = signal_type.index_key(change.value)
            if change.kind == "add":
                adds.setdefault(name, []).append((key, change.entry_pk, change.bank_id))
            else:
                index.add_all(adds.pop(name, []))
                index.remove(key, change.entry_pk)
        for name, rows in adds.items():
            self.indexes[name].add_all(rows)
        self.seq = last

    # searching

    def search(self, signal_type: str, values: list[str]) -> list[Hit]:
        """Hits for ``values`` (canonical text) of one type, in enabled banks within each
        bank's threshold."""
        if signal_type not in self.indexes or not values:
            return []
        st = self.registry.get(signal_type)
        return self.search_keys(signal_type, [st.index_key(v) for v in values])

    def search_keys(self, signal_type: str, keys: Sequence[Any]) -> list[Hit]:
        """Like :meth:`search`, for values already turned into index keys
        (:meth:`~hashguard.signals.base.SignalType.index_key`; for a type matched in text,
        the message)."""
        index = self.indexes.get(signal_type)
        if index is None or not keys:
            return []
        with self._lock:
            limits = self._limits.get(signal_type, _NONE_ENABLED)
            hits = index.search_in(keys, limits)
        return _nearest(hits, HITS_PER_QUERY) if len(hits) > HITS_PER_QUERY else hits

    def holds(self, signal_type: str) -> bool:
        """Whether ``signal_type``'s index has any rows (live or not yet compacted away)."""
        index = self.indexes.get(signal_type)
        return index is not None and len(index.rows) > 0

    def max_threshold(self, signal_type: str) -> int:
        """The distance ``signal_type``'s index is searched at: the largest of the enabled
        banks' thresholds."""
        return self._limits.get(signal_type, _NONE_ENABLED).searched_at

    def stats(self) -> dict[str, dict[str, int]]:
        return {
            name: {"size": len(index), "tail": index.tail_size, "bytes": index.nbytes}
            for name, index in self.indexes.items()
        }


_NONE_ENABLED = SearchLimits({}, 0)

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
