"""A whole store in memory: the repository interfaces of :mod:`hashguard.store.repositories`
without a database, for tests of the engine and of what builds on it.

It keeps what the SQL store keeps and answers as it does (``tests/store/test_contract.py``
runs the same tests on both and compares their imports on random lists), but holds nothing
across restarts and serves one process: it is no replacement for SQLite in production.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hashguard.banks.model import Bank, Change, Entry, ImportReport
from hashguard.errors import Conflict, ListRejected, RowError
from hashguard.lists.rows import ListRow
from hashguard.policy.decide import MemoryFloodGuard
from hashguard.signals.registry import Registry, shared_registry
from hashguard.store.curation import Curation
from hashguard.store.memory_records import (
    MemoryAudit,
    MemoryKeys,
    MemoryMatchLog,
    MemoryPolicies,
    MemorySeenLog,
    MemorySources,
)
from hashguard.store.memory_tables import Tables, apply_rows
from hashguard.store.repositories import Added, Repositories


class _Wakeup:
    """Told of every write to this store (there is no other writer)."""

    listening = True

    def __init__(
        self, wakeups: list[_Wakeup], wake: Callable[[], object], keys: MemoryKeys
    ) -> None:
        self._wakeups = wakeups
        self.wake = wake
        self._keys = keys
        wakeups.append(self)

    @property
    def key_changes(self) -> int:
        return self._keys.version

    def close(self) -> None:
        if self in self._wakeups:
            self._wakeups.remove(self)


class MemoryStore(Curation):
    safe_url = "memory:"

    def __init__(self, *, registry: Registry | None = None) -> None:
        self.registry = registry or shared_registry()
        self.store_id = uuid.uuid4().hex
        self.work_dir = Path(tempfile.mkdtemp(prefix="hashguard-memory-"))  # owner-only
        self._lock = threading.RLock()
        self._tables = Tables()
        self.audit = MemoryAudit(self._lock)
        self.keys = MemoryKeys(self._lock, self.audit)
        self.sources = MemorySources(self._lock, self.audit)
        self.policies = MemoryPolicies(self._writing, self.audit)
        self.match_log = MemoryMatchLog(self._lock)
        self.seen_log = MemorySeenLog(self._lock)
        self.flood_guard = MemoryFloodGuard()  # one process is all there is
        self._after_write: list[Callable[[], None]] = []
        self._wakeups: list[_Wakeup] = []

    def close(self) -> None:
        shutil.rmtree(self.work_dir, ignore_errors=True)

    def after_write(self, callback: Callable[[], None]) -> None:
        self._after_write.append(callback)

    def listen(self, wake: Callable[[], object]) -> _Wakeup:
        with self._lock:
            return _Wakeup(self._wakeups, wake, self.keys)

    @contextmanager
    def _writing(self) -> Iterator[Tables]:
        """The tables, for one change; callers check everything before they change anything,
        so a change is whole or absent, as a transaction would make it."""
        with self._lock:
            yield self._tables
            wakeups = list(self._wakeups)
        for callback in self._after_write:
            callback()
        for wakeup in wakeups:
            wakeup.wake()

    # banks

    def _add_bank(self, bank: Bank, detail: dict[str, Any], actor: str) -> Bank:
        with self._writing() as tables:
            if any(b.name == bank.name for b in tables.banks.values()):
                raise Conflict(f"bank {bank.name!r} already exists")
            bank = replace(bank, id=tables.new_id("banks"))
            tables.banks[bank.id] = bank
            tables.log("bank", bank.id)
            self.audit.append(actor, "bank.create", bank.name, detail)
        return bank

    def _change_bank(self, bank: Bank, detail: dict[str, Any], actor: str) -> None:
        with self._writing() as tables:
            tables.banks[bank.id] = replace(
                bank,
                thresholds=detail.get("thresholds", bank.thresholds),
                enabled=detail.get("enabled", bank.enabled),
                match_fields=tuple(detail.get("match_fields", bank.match_fields)),
            )
            tables.log("bank", bank.id)
            self.audit.append(actor, "bank.update", bank.name, detail)

    def delete_bank(self, name: str, *, actor: str = "local") -> int:
        with self._writing() as tables:
            bank = self.bank(name)
            active = [
                e for e in tables.entries.values() if e.bank_id == bank.id and e.status == "active"
            ]
            for sid in sorted(sid for e in active for sid in e.signals):  # as the SQL store
                tables.log("retract", bank.id, tables.signals[sid].entry_pk, sid)
            for e in active:
                e.status = "retracted"
            tables.banks[bank.id] = replace(bank, name=f"#{bank.id}", enabled=False)
            tables.deleted.add(bank.id)
            tables.log("bank", bank.id)
            self.audit.append(actor, "bank.delete", name, {"entries_retracted": len(active)})
        return len(active)

    def banks(self) -> list[Bank]:
        with self._lock:
            live = [b for i, b in self._tables.banks.items() if i not in self._tables.deleted]
        return sorted(live, key=lambda b: b.name)

    def bank_counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        with self._lock:
            for e in self._tables.entries.values():
                if e.bank_id not in self._tables.deleted:
                    counts = out.setdefault(self._tables.banks[e.bank_id].name, {})
                    counts[e.status] = counts.get(e.status, 0) + 1
        return out

    # lists

    def _import(
        self, bank: Bank, rows: Iterable[ListRow], errors: list[RowError], source: str,
        audit_as: tuple[str, str], checkpoint: tuple[str, str] | None,
    ) -> ImportReport:  # fmt: skip
        staged = list(rows)  # the reader fills ``errors`` while this runs
        if errors:
            raise ListRejected(source, sorted(errors, key=lambda e: e.line))
        actor, action = audit_as
        with self._writing() as tables:
            report = apply_rows(tables, self.bank(bank.name), staged)
            self.audit.append(actor, action, bank.name, {"source": source, **report.as_dict()})
            if checkpoint is not None:
                self.sources.save_checkpoint(*checkpoint)
        return report

    def submit_entry(
        self, bank_name: str, rows: Sequence[ListRow], *, actor: str = "local",
        action: str = "entry.add",
    ) -> Future[Added]:  # fmt: skip
        """Done at once: the future is settled when this returns."""
        future: Future[Added] = Future()
        try:
            key = rows[0].key
            if any(r.action != "add" or r.key != key or r.signal_type is None for r in rows):
                raise ValueError("submit_entry takes the additions of one entry")
            report = self.import_rows(
                bank_name, rows, [], f"entry {key}", actor=actor, action=action
            )
            future.set_result((report, self.entry(bank_name, key)))
        except Exception as e:
            future.set_exception(e)
        return future

    def _entry_pk(self, bank: Bank, entry_id: str) -> int | None:
        with self._lock:
            return self._tables.by_key.get((bank.id, entry_id))

    def entries(self, pks: Sequence[int], *, signals: bool = True) -> dict[int, Entry]:
        with self._lock:
            found = [pk for pk in set(pks) if pk in self._tables.entries]
            return {pk: self._tables.entry(pk, signals=signals) for pk in found}

    def export_rows(
        self, bank_name: str, *, include_retracted: bool = False
    ) -> Iterator[dict[str, Any]]:
        with self._lock:
            bank = self.bank(bank_name)
            rows = self._tables.export(bank.id, include_retracted)
        return iter(rows)

    # change log

    def last_seq(self) -> int:
        with self._lock:
            return self._tables.last_seq()

    def count_changes_after(self, seq: int, limit: int) -> int:
        with self._lock:
            return min(limit, max(0, len(self._tables.changes) - max(0, seq)))

    def changes_after(self, seq: int, limit: int = 100_000) -> list[Change]:
        with self._lock:
            # seq n is at index n - 1: nothing is ever taken out of the log
            rows = self._tables.changes[max(0, seq) : max(0, seq) + limit]
            return [self._tables.change(r) for r in rows]

    def active_signals(self, signal_types: Sequence[str]) -> tuple[int, Iterator[Any]]:
        wanted = set(signal_types)
        with self._lock:
            t = self._tables
            rows = [
                (s.signal_type, s.value, e.pk, e.bank_id, t.last_seq())
                for e in t.entries.values() if e.status == "active"
                for s in (t.signals[i] for i in e.signals) if s.signal_type in wanted
            ]  # fmt: skip
            return t.last_seq(), iter(rows)


if TYPE_CHECKING:  # mypy holds the class to the interfaces
    _KEEPS: Repositories = MemoryStore()
