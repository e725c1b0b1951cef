"""What every store does the same way around its writes to banks and entries: the checks,
the audit details, the lookups by name. A store (:class:`~hashguard.store.store.Store`,
:class:`~hashguard.store.memory.MemoryStore`) inherits these and writes in its own way."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future
from typing import Any

from hashguard.banks.model import Bank, Entry, ImportReport, bank_changes, new_bank, no_bank
from hashguard.errors import InvalidValue, NotFound, RowError
from hashguard.lists.rows import ListRow, text_problem
from hashguard.signals.registry import Registry
from hashguard.store.repositories import Added


class Curation(ABC):
    registry: Registry  # what bank thresholds are checked by

    # what a store writes, each in one transaction with its change-log and audit rows

    @abstractmethod
    def _add_bank(self, bank: Bank, detail: dict[str, Any], actor: str) -> Bank:
        """Store ``bank`` (its id still 0); returns it with its id. Conflict if taken."""

    @abstractmethod
    def _change_bank(self, bank: Bank, detail: dict[str, Any], actor: str) -> None:
        """Apply an update's ``detail`` (see :func:`~hashguard.banks.model.bank_changes`)."""

    @abstractmethod
    def _import(
        self, bank: Bank, rows: Iterable[ListRow], errors: list[RowError], source: str,
        audit_as: tuple[str, str], checkpoint: tuple[str, str] | None,
    ) -> ImportReport: ...  # fmt: skip

    @abstractmethod
    def _entry_pk(self, bank: Bank, entry_id: str) -> int | None: ...

    @abstractmethod
    def banks(self) -> list[Bank]: ...

    @abstractmethod
    def entries(self, pks: Sequence[int], *, signals: bool = True) -> dict[int, Entry]: ...

    @abstractmethod
    def submit_entry(
        self, bank_name: str, rows: Sequence[ListRow], *, actor: str = "local",
        action: str = "entry.add",
    ) -> Future[Added]:  # fmt: skip
        """Add one entry (``rows`` as :func:`~hashguard.lists.rows.entry_rows` makes them),
        with the outcome of a one-entry :meth:`import_rows`; the future holds the report and
        the entry once they are stored."""

    # the same in every store

    def create_bank(
        self,
        name: str,
        pdq_threshold: int | None = None,
        *,
        thresholds: Mapping[str, int] | None = None,
        match_fields: list[str] | tuple[str, ...] | None = None,
        actor: str = "local",
    ) -> Bank:
        """A new bank; ``thresholds``: its match threshold per signal type (``pdq_threshold``
        is the PDQ one); a type it leaves out matches at the type's default."""
        bank, detail = new_bank(name, thresholds, pdq_threshold, match_fields, self.registry)
        return self._add_bank(bank, detail, actor)

    def update_bank(
        self,
        name: str,
        *,
        pdq_threshold: int | None = None,
        thresholds: Mapping[str, int | None] | None = None,
        enabled: bool | None = None,
        match_fields: list[str] | tuple[str, ...] | None = None,
        actor: str = "local",
    ) -> Bank:
        """Change settings. ``thresholds``: per signal type, a new threshold or None for the
        type's default (types not named keep theirs); ``match_fields``: what match keys see
        of its entries (an empty list: only bank, id and signal type). Nothing asked,
        nothing written."""
        bank = self.bank(name)
        detail = bank_changes(bank, thresholds, pdq_threshold, enabled, match_fields, self.registry)
        if detail:
            self._change_bank(bank, detail, actor)
        return self.bank(name)

    def bank(self, name: str) -> Bank:
        for bank in self.banks():
            if bank.name == name:
                return bank
        raise no_bank(name)

    def import_rows(
        self,
        bank_name: str,
        rows: Iterable[ListRow],
        errors: list[RowError],
        source: str,
        *,
        actor: str = "local",
        action: str = "bank.import",
        checkpoint: tuple[str, str] | None = None,
    ) -> ImportReport:
        """Apply a list atomically. ``errors`` is filled by the reader while rows stream in;
        any error rolls the whole import back (:class:`ListRejected`). ``checkpoint``: a
        source's (name, checkpoint), saved in the same transaction, so that a sync's
        checkpoint commits with the rows it follows."""
        bank = self.bank(bank_name)
        return self._import(bank, rows, errors, source, (actor, action), checkpoint)

    def add_entry(
        self, bank_name: str, rows: Sequence[ListRow], *, actor: str = "local",
        action: str = "entry.add",
    ) -> Added:  # fmt: skip
        """:meth:`submit_entry`, waiting for the commit."""
        return self.submit_entry(bank_name, rows, actor=actor, action=action).result()

    def retract_entry(self, bank_name: str, entry_id: str, *, actor: str = "local") -> Entry:
        entry = self.entry(bank_name, entry_id)
        if entry.status == "active":
            row = ListRow(line=1, action="retract", id=entry_id, signal_type=None, value=None)
            self.import_rows(
                bank_name, [row], [], f"entry {entry_id}", actor=actor, action="entry.retract"
            )
        return self.entry(bank_name, entry_id)

    def entry(self, bank_name: str, entry_id: str) -> Entry:
        bank = self.bank(bank_name)
        problem = text_problem(entry_id)
        if problem is not None:  # PostgreSQL would refuse the query itself
            raise InvalidValue(f"an entry id {problem}")
        pk = self._entry_pk(bank, entry_id)
        if pk is None:
            raise NotFound(f"bank {bank_name!r} has no entry {entry_id!r}")
        return self.entries([pk])[pk]
