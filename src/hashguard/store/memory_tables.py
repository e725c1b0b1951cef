"""The in-memory store's tables, and a list applied to them with the SQL importer's outcome.

:mod:`hashguard.store.importer` says what applying a list means; this does the same with
dicts, row by row, and ``tests/store/test_contract.py`` holds the two to the same entries,
reports and change log on random lists. Not thread-safe: the caller holds the store's lock.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from hashguard.banks.model import Bank, Change, ChangeKind, Entry, ImportReport, Status
from hashguard.lists.rows import ListRow
from hashguard.signals.base import Signal

_METADATA = ("category", "severity", "note", "extra")


@dataclass
class EntryRow:
    pk: int
    bank_id: int
    key: str  # the source's id, else ``type:value``
    status: Status
    category: str | None
    severity: str | None
    note: str | None
    extra: str | None  # a JSON object, as the list gave it
    signals: list[int] = field(default_factory=list)  # signal ids, in id order

    def metadata(self) -> tuple[str | None, ...]:
        return (self.category, self.severity, self.note, self.extra)


@dataclass(frozen=True)
class SignalRow:
    id: int
    entry_pk: int
    signal_type: str
    value: str
    quality: int | None


@dataclass(frozen=True)
class ChangeRow:
    seq: int
    kind: ChangeKind
    bank_id: int
    entry_pk: int | None = None
    signal_id: int | None = None


@dataclass
class Tables:
    banks: dict[int, Bank] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)  # ids of deleted banks (renamed ``#id``)
    entries: dict[int, EntryRow] = field(default_factory=dict)
    by_key: dict[tuple[int, str], int] = field(default_factory=dict)  # (bank, key): entry pk
    signals: dict[int, SignalRow] = field(default_factory=dict)
    by_value: dict[tuple[str, str], set[int]] = field(default_factory=dict)  # signal ids
    changes: list[ChangeRow] = field(default_factory=list)  # in seq order
    next_id: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def new_id(self, table: str) -> int:
        self.next_id[table] += 1
        return self.next_id[table]

    def last_seq(self) -> int:
        return self.changes[-1].seq if self.changes else 0

    def log(
        self, kind: ChangeKind, bank_id: int, entry_pk: int | None = None, signal: int | None = None
    ) -> int:
        seq = self.new_id("changes")
        self.changes.append(ChangeRow(seq, kind, bank_id, entry_pk, signal))
        return seq

    def change(self, row: ChangeRow) -> Change:
        if row.signal_id is None:
            return Change(row.seq, row.kind, row.bank_id, row.entry_pk)
        s = self.signals[row.signal_id]
        return Change(row.seq, row.kind, row.bank_id, row.entry_pk, s.signal_type, s.value)

    def entry(self, pk: int, *, signals: bool = True) -> Entry:
        e = self.entries[pk]
        found = [self.signals[i] for i in e.signals] if signals else []
        return Entry(
            pk=e.pk, bank=self.banks[e.bank_id].name, id=e.key,
            signals=tuple(Signal(s.signal_type, s.value, s.quality) for s in found),
            status=e.status, category=e.category, severity=e.severity, note=e.note,
            extra=json.loads(e.extra) if e.extra else {},
        )  # fmt: skip

    def add_signal(self, entry: EntryRow, signal_type: str, value: str, q: int | None) -> int:
        sid = self.new_id("signals")
        self.signals[sid] = SignalRow(sid, entry.pk, signal_type, value, q)
        self.by_value.setdefault((signal_type, value), set()).add(sid)
        entry.signals.append(sid)
        return sid

    def set_status(self, entry: EntryRow, status: Status) -> None:
        kind: ChangeKind = "add" if status == "active" else "retract"
        for sid in entry.signals:
            self.log(kind, entry.bank_id, entry.pk, sid)
        entry.status = status

    def export(self, bank_id: int, include_retracted: bool) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for e in sorted(self.entries.values(), key=lambda e: e.pk):
            if e.bank_id != bank_id or (e.status != "active" and not include_retracted):
                continue
            sigs = sorted(
                (self.signals[i] for i in e.signals), key=lambda s: (s.signal_type, s.value)
            )
            for s in sigs:
                row: dict[str, Any] = {"signal_type": s.signal_type, "signal": s.value, "id": e.key}
                if e.status == "retracted":
                    row["action"] = "retract"
                for key, value in zip(
                    ("category", "severity", "note", "quality"),
                    (e.category, e.severity, e.note, s.quality),
                    strict=True,
                ):
                    if value is not None:
                        row[key] = value
                if e.extra:
                    row.update(json.loads(e.extra))
                out.append(row)
        return out


def apply_rows(tables: Tables, bank: Bank, rows: list[ListRow]) -> ImportReport:
    """Apply a validated list (rows in any order) to ``bank``: what
    :func:`~hashguard.store.importer.apply_list` does, in the same order of changes."""
    rows = sorted(rows, key=lambda r: r.line)
    before = tables.last_seq()
    last: dict[str, ListRow] = {r.key: r for r in rows}
    first: dict[str, ListRow] = {}  # first row of each entry ending added, in line order
    for r in rows:
        if r.action == "add" and last[r.key].action == "add":
            first.setdefault(r.key, r)

    known: list[tuple[ListRow, EntryRow]] = []
    added = 0
    for key, row in first.items():
        pk = tables.by_key.get((bank.id, key))
        if pk is not None:
            known.append((row, tables.entries[pk]))
            continue
        pk = tables.new_id("entries")
        meta = (row.category, row.severity, row.note, row.extra)
        tables.entries[pk] = EntryRow(pk, bank.id, key, "active", *meta)
        tables.by_key[(bank.id, key)] = pk
        added += 1
    updated = reactivated = 0
    for row, e in known:
        new = (row.category, row.severity, row.note, row.extra)
        if e.metadata() != new:
            tables.log("update", bank.id, e.pk)
            e.category, e.severity, e.note, e.extra = new
            updated += 1
    for _, e in known:
        if e.status == "retracted":
            tables.set_status(e, "active")
            reactivated += 1

    # Signals the entries lack, each once with its lowest quality, in the order first listed.
    lacking: dict[tuple[int, str, str], int | None] = {}
    for r in rows:
        if r.key not in first or r.action != "add":
            continue
        assert r.signal_type is not None and r.value is not None  # an addition has its signal
        e = tables.entries[tables.by_key[(bank.id, r.key)]]
        k = (e.pk, r.signal_type, r.value)
        if k in lacking:
            q = lacking[k]
            lacking[k] = r.quality if q is None else q if r.quality is None else min(q, r.quality)
        elif not any(tables.signals[i].entry_pk == e.pk for i in tables.by_value.get(k[1:], ())):
            lacking[k] = r.quality
    low_quality = 0
    for (pk, signal_type, value), quality in lacking.items():
        e = tables.entries[pk]
        tables.log("add", bank.id, pk, tables.add_signal(e, signal_type, value, quality))
        low_quality += signal_type == "pdq" and quality is not None and quality < 50

    retracted = _retract(tables, bank, rows, last)
    logged = tables.changes[before:]  # seq n is at index n - 1
    return ImportReport(
        bank=bank.name,
        rows=len(rows),
        entries_added=added,
        signals_added=len(lacking),
        reactivated=reactivated,
        retracted=retracted,
        metadata_updated=updated,
        low_quality=low_quality,
        first_seq=logged[0].seq if logged else None,
        last_seq=logged[-1].seq if logged else None,
    )


def _retract(tables: Tables, bank: Bank, rows: list[ListRow], last: dict[str, ListRow]) -> int:
    """Entries whose last row retracts them by id, and active entries carrying a signal a
    row retracts without an id (whose own last row is that retraction)."""
    pks: set[int] = set()
    for key, row in last.items():
        pk = tables.by_key.get((bank.id, key))
        if row.action == "retract" and pk is not None:
            pks.add(pk)
    for r in rows:
        if r.action == "retract" and r.id is None and last[r.key].action == "retract":
            assert r.signal_type is not None and r.value is not None
            found = tables.by_value.get((r.signal_type, r.value), ())
            pks.update(tables.signals[i].entry_pk for i in found)
    chosen = [tables.entries[pk] for pk in sorted(pks)]
    chosen = [e for e in chosen if e.bank_id == bank.id and e.status == "active"]
    for e in chosen:
        tables.set_status(e, "retracted")
    return len(chosen)
