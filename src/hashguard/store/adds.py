"""Adding one entry at a time, fast: row statements instead of a staged list, and the adds
that arrive together written in one transaction (group commit).

A one-entry list through :func:`~hashguard.store.importer.apply_list` costs ~30 statements
(temporary tables, their indexes, set-based passes) for what is a handful of row operations,
and every add waits for its own commit while holding the change-log lock. Here an add is
those row operations, with the same outcome as the one-entry list (tests compare the two),
and a writer thread takes every add queued while the previous transaction committed into
the next one. Each caller's future is settled only after that commit: an acknowledged add
is durable. One add that fails (its bank is gone, the database refuses a value) fails alone:
the transaction is rolled back and written again without it.
On PostgreSQL the group's adds of new ids are written in one statement (store/adds_pg.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from hashguard.banks.model import Bank, Entry, ImportReport, no_bank
from hashguard.errors import HashguardError, InvalidValue, ItemFailed
from hashguard.lists.rows import ListRow
from hashguard.signals.base import Signal
from hashguard.store import audit
from hashguard.store.adds_pg import NewEntry, write_new
from hashguard.store.repositories import Added
from hashguard.store.writer import GroupWriter

log = logging.getLogger(__name__)

_METADATA = ("category", "severity", "note", "extra")

# Built once (compiling a statement costs more than running it on a warm connection).
_BANKS = text(
    "SELECT id, name, thresholds, enabled, match_fields FROM hg_banks WHERE deleted_at IS NULL"
)
_FIND = text(
    "SELECT id, status, category, severity, note, extra FROM hg_entries "
    "WHERE bank_id = :b AND source_id = :k"
)
_NEW_ENTRY = text(
    "INSERT INTO hg_entries (bank_id, source_id, status, category, severity, note, extra) "
    "VALUES (:b, :k, 'active', :category, :severity, :note, :extra) RETURNING id"
)
_SIGNALS = text(
    "SELECT id, signal_type, value, quality FROM hg_entry_signals WHERE entry_id = :e ORDER BY id"
)
_NEW_SIGNAL = text(
    "INSERT INTO hg_entry_signals (entry_id, signal_type, value, quality) "
    "VALUES (:e, :t, :v, :q) RETURNING id"
)
_CHANGE = text(
    "INSERT INTO hg_changes (kind, bank_id, entry_id, signal_id) VALUES (:kind, :b, :e, :s) "
    "RETURNING seq"
)
_UPDATE = text(
    "UPDATE hg_entries SET category = :category, severity = :severity, note = :note, "
    "extra = :extra WHERE id = :e"
)
_REACTIVATE = text("UPDATE hg_entries SET status = 'active' WHERE id = :e")


@dataclass(frozen=True)
class EntryAdd:
    """One entry's rows (as :func:`~hashguard.lists.rows.entry_rows` makes them: one id,
    each row an addition) for one bank, and who adds them."""

    bank: str
    rows: tuple[ListRow, ...]
    actor: str
    action: str = "entry.add"

    @property
    def entry_id(self) -> str:
        return self.rows[0].key


def write_entry(conn: Connection, bank: Bank, add: EntryAdd) -> Added:
    """The rows of one entry, written as a one-entry list would be (same entries, signals,
    change-log rows in the same order, same report); the caller holds the change-log lock."""
    first, key = add.rows[0], add.entry_id
    if any(r.action != "add" or r.key != key or r.signal_type is None for r in add.rows):
        raise ValueError("write_entry takes the additions of one entry")
    meta = {c: getattr(first, c) for c in _METADATA}
    b = {"b": bank.id}
    seqs: list[int] = []

    def change(kind: str, entry: int, signal: int | None) -> None:
        params = {**b, "kind": kind, "e": entry, "s": signal}
        seqs.append(conn.execute(_CHANGE, params).scalar_one())

    found = conn.execute(_FIND, {**b, "k": key}).one_or_none()
    signals: list[tuple[int, str, str, int | None]] = []
    added = updated = reactivated = 0
    if found is None:
        pk = conn.execute(_NEW_ENTRY, {**b, "k": key, **meta}).scalar_one()
        added = 1
    else:
        pk = found.id
        signals = [tuple(r) for r in conn.execute(_SIGNALS, {"e": pk})]
        if any(getattr(found, c) != meta[c] for c in _METADATA):
            change("update", pk, None)
            conn.execute(_UPDATE, {"e": pk, **meta})
            updated = 1
        if found.status == "retracted":
            for signal_pk, *_ in signals:
                change("add", pk, signal_pk)
            conn.execute(_REACTIVATE, {"e": pk})
            reactivated = 1
    lacking = _lacking(add.rows, {(t, v) for _, t, v, _ in signals})
    for (type_name, value), quality in lacking.items():
        params = {"e": pk, "t": type_name, "v": value, "q": quality}
        signal_pk = conn.execute(_NEW_SIGNAL, params).scalar_one()
        change("add", pk, signal_pk)
        signals.append((signal_pk, type_name, value, quality))
    report = _report(bank, add, lacking, added, reactivated, updated, seqs)
    audit.record(conn, add.actor, add.action, bank.name, _detail(add, report))
    return report, _entry(bank, add, pk, [(t, v, q) for _, t, v, q in signals])


def _lacking(
    rows: Sequence[ListRow], have: set[tuple[str, str]]
) -> dict[tuple[str, str], int | None]:
    """The signals of ``rows`` not in ``have``, each once with its lowest quality, in the
    order first listed (as the importer adds them)."""
    lacking: dict[tuple[str, str], int | None] = {}
    for r in rows:
        k = (r.signal_type, r.value)
        if k in have:
            continue
        if k in lacking:
            q = lacking[k]
            lacking[k] = r.quality if q is None else q if r.quality is None else min(q, r.quality)
        else:
            lacking[k] = r.quality  # type: ignore[index]
    return lacking


def _report(
    bank: Bank, add: EntryAdd, lacking: dict[tuple[str, str], int | None], added: int,
    reactivated: int, updated: int, seqs: Sequence[int],
) -> ImportReport:  # fmt: skip
    low = sum(t == "pdq" and q is not None and q < 50 for (t, _), q in lacking.items())
    return ImportReport(
        bank=bank.name,
        rows=len(add.rows),
        entries_added=added,
        signals_added=len(lacking),
        reactivated=reactivated,
        metadata_updated=updated,
        low_quality=low,
        first_seq=min(seqs, default=None),
        last_seq=max(seqs, default=None),
    )


def _detail(add: EntryAdd, report: ImportReport) -> dict[str, Any]:
    """The audit record's detail."""
    return {"source": f"entry {add.entry_id}", **report.as_dict()}


def _entry(bank: Bank, add: EntryAdd, pk: int, signals: list[tuple[str, str, int | None]]) -> Entry:
    first = add.rows[0]
    return Entry(
        pk=pk, bank=bank.name, id=add.entry_id, signals=tuple(Signal(*s) for s in signals),
        status="active", category=first.category, severity=first.severity, note=first.note,
        extra=json.loads(first.extra) if first.extra else {},
    )  # fmt: skip


def _write_new(
    conn: Connection, banks: dict[str, Bank], adds: Sequence[EntryAdd],
    results: list[Added | None],
) -> None:  # fmt: skip
    """Fill in ``results`` for the adds of ids their bank does not hold yet, written in one
    statement (PostgreSQL; see store/adds_pg.py). The rest are left to the row path: ids
    already there, a second add of one id, adds to a bank that is gone (it says why)."""
    group: list[tuple[NewEntry, Bank, EntryAdd, dict[tuple[str, str], int | None]]] = []
    seen: set[tuple[int, str]] = set()
    for i, add in enumerate(adds):
        bank = banks.get(add.bank)
        if bank is None or (bank.id, add.entry_id) in seen:
            continue
        seen.add((bank.id, add.entry_id))
        lacking = _lacking(add.rows, set())
        first = add.rows[0]
        detail = _detail(add, _report(bank, add, lacking, 1, 0, 0, ()))
        new = NewEntry(
            i, bank.id, add.entry_id, first.category, first.severity, first.note, first.extra,
            add.actor[:128], add.action, bank.name, json.dumps(detail, default=str),
            tuple((t, v, q) for (t, v), q in lacking.items()),
        )  # fmt: skip
        group.append((new, bank, add, lacking))
    if not group:
        return
    try:
        written = write_new(conn, [new for new, *_ in group])
    except DBAPIError as e:  # a value the database refuses: the row path finds which
        raise GroupFailed from e
    for new, bank, add, lacking in group:
        if new.i in written:
            pk, first_seq, last_seq = written[new.i]
            report = _report(bank, add, lacking, 1, 0, 0, (first_seq, last_seq))
            results[new.i] = report, _entry(bank, add, pk, list(new.signals))


def _item_error(add: EntryAdd, e: Exception) -> Exception:
    """What the caller of one failed add is told."""
    if isinstance(e, HashguardError):
        return e
    if isinstance(e, DataError | IntegrityError):
        reason = str(e.orig).strip().splitlines()[0] if e.orig else type(e).__name__
        return InvalidValue(f"entry {add.entry_id!r} could not be stored: {reason}")
    return e


Pending = tuple[EntryAdd, "Future[Added]"]


class GroupFailed(Exception):
    """The one statement for a group's new entries failed: write the group row by row."""


class GroupCommit(GroupWriter[EntryAdd, Added]):
    """The writer thread of single adds: each transaction takes every add queued since the
    last began."""

    name = "hashguard-adds"

    def __init__(self, writing: Callable[[], AbstractContextManager[Connection]]) -> None:
        super().__init__()
        self._writing = writing

    def write(self, batch: list[Pending]) -> None:
        """Write ``batch`` in one transaction and settle every future after the commit; an
        add that fails is taken out and the rest written again (so at most one retry per
        failed add: failures cost, successes do not)."""
        pending = [p for p in batch if p[1].set_running_or_notify_cancel()]
        grouped = True
        reconnected = False
        while pending:
            try:
                results = self._transaction([add for add, _ in pending], grouped)
            except GroupFailed:
                grouped = False
                continue
            except ItemFailed as failed:
                pending.pop(failed.index)[1].set_exception(failed.error)
                continue
            except DBAPIError as e:
                if e.connection_invalidated and not reconnected:
                    # The kept connection was dropped (a restart, a proxy's idle timeout):
                    # again, once, on a new one. Should the drop have come after COMMIT
                    # reached the server, the second write finds the entries there and
                    # adds nothing twice.
                    log.warning("the database connection was lost; writing the adds again")
                    reconnected = True
                    continue
                for _, future in pending:
                    future.set_exception(e)
                return
            except Exception as e:  # the commit, or the lock: nothing was written
                for _, future in pending:
                    future.set_exception(e)
                return
            for (_, future), result in zip(pending, results, strict=True):
                future.set_result(result)
            self.batches += 1
            self.largest = max(self.largest, len(pending))
            return

    def _transaction(self, adds: list[EntryAdd], grouped: bool) -> list[Added]:
        """``grouped``: new entries in one statement where the database can (PostgreSQL)."""
        results: list[Added | None] = [None] * len(adds)
        with self._writing() as conn:
            banks = {r.name: Bank.from_row(r) for r in conn.execute(_BANKS)}
            if grouped and conn.dialect.name == "postgresql":
                _write_new(conn, banks, adds, results)
            for i, add in enumerate(adds):
                if results[i] is not None:
                    continue
                try:
                    bank = banks.get(add.bank)
                    if bank is None:
                        raise no_bank(add.bank)
                    results[i] = write_entry(conn, bank, add)
                except Exception as e:
                    raise ItemFailed(i, _item_error(add, e)) from e
        return [r for r in results if r is not None]
