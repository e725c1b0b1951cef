"""What the rest of hashguard needs of a store, as small interfaces.

Two implementations hold each of them: the SQL one (:class:`~hashguard.store.store.Store`,
on SQLite or PostgreSQL) and the in-memory one (:class:`~hashguard.store.memory.MemoryStore`,
for tests of the engine and of what builds on it). ``tests/store/test_contract.py`` runs one
set of tests over all three, and compares the in-memory importer with the SQL one on random
lists. Everything here is a :class:`typing.Protocol`: an implementation need not inherit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from hashguard.access.api_keys import ApiKey
from hashguard.actions.model import Checked, Logged
from hashguard.banks.model import Bank, Change, Entry, ImportReport
from hashguard.errors import RowError
from hashguard.lists.rows import ListRow
from hashguard.policy.decide import FloodGuard
from hashguard.policy.model import PolicyRecord
from hashguard.sources.model import Source

Added = tuple[ImportReport, Entry]  # what adding one entry did, and the entry


class Wakeup(Protocol):
    """A subscription to changes committed anywhere (PostgreSQL's NOTIFY, say)."""

    @property
    def listening(self) -> bool:
        """False while changes may go unannounced: poll then."""
        ...

    @property
    def key_changes(self) -> int:
        """Moves whenever API keys may have changed: their cache is reloaded then."""
        ...

    def close(self) -> None: ...


class ChangeLog(Protocol):
    """The numbered changes to every bank, and what an index is built from: all that the
    index follower (:mod:`hashguard.index.live`, :mod:`hashguard.runtime.loops`) uses."""

    @property
    def store_id(self) -> str:
        """Fixed at creation: a snapshot names the store it belongs to."""
        ...

    def last_seq(self) -> int: ...

    def count_changes_after(self, seq: int, limit: int) -> int:
        """Changes logged after ``seq``, counting at most ``limit`` (rows, not numbers:
        PostgreSQL leaves gaps where a transaction rolled back)."""
        ...

    def changes_after(self, seq: int, limit: int = 100_000) -> list[Change]: ...

    def active_signals(self, signal_types: Sequence[str]) -> tuple[int, Iterator[Any]]:
        """Every active (type, value, entry pk, bank id, _) row of these types, and the
        sequence number they are current as of (both read from one snapshot)."""
        ...

    def banks(self) -> list[Bank]:
        """The banks' settings now (a ``bank`` change says they changed)."""
        ...

    def listen(self, wake: Callable[[], object]) -> Wakeup | None:
        """Call ``wake`` whenever changes may have been logged; None: cannot, poll."""
        ...


class BankRepository(Protocol):
    """Banks, their entries, and lists applied to them. Every change is numbered in the
    change log and recorded in the audit log in the same transaction."""

    def create_bank(
        self,
        name: str,
        pdq_threshold: int | None = None,
        *,
        thresholds: Mapping[str, int] | None = None,
        match_fields: list[str] | tuple[str, ...] | None = None,
        actor: str = "local",
    ) -> Bank: ...

    def update_bank(
        self,
        name: str,
        *,
        pdq_threshold: int | None = None,
        thresholds: Mapping[str, int | None] | None = None,
        enabled: bool | None = None,
        match_fields: list[str] | tuple[str, ...] | None = None,
        actor: str = "local",
    ) -> Bank: ...

    def delete_bank(self, name: str, *, actor: str = "local") -> int: ...

    def banks(self) -> list[Bank]: ...

    def bank(self, name: str) -> Bank: ...

    def bank_counts(self) -> dict[str, dict[str, int]]: ...

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
        """Apply a list atomically; any row in ``errors`` once ``rows`` ran out rejects it
        all. ``checkpoint``: (source name, checkpoint) saved in the same transaction."""
        ...

    def submit_entry(
        self, bank_name: str, rows: Sequence[ListRow], *, actor: str = "local",
        action: str = "entry.add",
    ) -> Future[Added]: ...  # fmt: skip

    def add_entry(
        self, bank_name: str, rows: Sequence[ListRow], *, actor: str = "local",
        action: str = "entry.add",
    ) -> Added: ...  # fmt: skip

    def retract_entry(self, bank_name: str, entry_id: str, *, actor: str = "local") -> Entry: ...

    def entry(self, bank_name: str, entry_id: str) -> Entry: ...

    def entries(self, pks: Sequence[int], *, signals: bool = True) -> dict[int, Entry]: ...

    def export_rows(
        self, bank_name: str, *, include_retracted: bool = False
    ) -> Iterator[dict[str, Any]]: ...


class KeyRepository(Protocol):
    """API keys, kept as hashes of their secrets."""

    def create(
        self, name: str | None, scopes: list[str], *, rate_limit: int | None = None, actor: str
    ) -> tuple[ApiKey, str]: ...

    def revoke(self, name: str, *, actor: str) -> ApiKey: ...

    def get(self, name: str) -> ApiKey: ...

    def list(self) -> list[ApiKey]: ...

    def by_hash(self) -> dict[str, ApiKey]: ...

    def find(self, secret: str) -> ApiKey | None: ...


class SourceRepository(Protocol):
    """Upstream lists, their checkpoints and outcomes, and the sync lease."""

    def add(
        self, name: str, kind: str, bank: str, url: str, settings: Mapping[str, Any], *,
        actor: str,
    ) -> Source: ...  # fmt: skip

    def remove(self, name: str, *, actor: str) -> None: ...

    def get(self, name: str) -> Source: ...

    def list(self) -> list[Source]: ...

    def reset_checkpoint(self, name: str, *, actor: str) -> Source: ...

    def record_outcome(self, name: str, error: str | None) -> None: ...

    def claim(self, owner: str, seconds: float) -> bool: ...


class PolicyRepository(Protocol):
    """Policies, versioned: each set is a new version, the newest in force. Documents are
    checked before they get here (:mod:`hashguard.policy.versions`)."""

    def current(self) -> PolicyRecord | None: ...

    def history(self, *, limit: int = 50) -> list[PolicyRecord]: ...

    def set(self, document: dict[str, Any], *, actor: str) -> PolicyRecord: ...


class MatchLogRepository(Protocol):
    """Kept verdicts and the outbox: each item's match-log row and, if it is acted on, its
    outbox event, in one transaction (:mod:`hashguard.actions`)."""

    def submit(self, item: Checked) -> Future[Logged]:
        """Settled once ``item`` is durable (or its write failed)."""
        ...

    def records(self, *, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]: ...

    def events(self, *, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """Outbox events in delivery order, as ``{"id", "event"}``."""
        ...

    def purge(self, before: datetime, *, batch: int = 10_000) -> int:
        """Delete the records made before ``before``; returns how many."""
        ...

    def record_once(self, item: Checked) -> Logged | None:
        """Write ``item`` at once, in its own transaction, unless an event with its
        ``event_id`` exists already (then None): acting once per deterministic id."""
        ...


class SeenLogRepository(Protocol):
    """Every checked item's hashes and context, written in batches off the request path
    (see :mod:`hashguard.store.seen_log` for what a crash can lose)."""

    def record(self, row: dict[str, Any]) -> None:
        """Queue one row (:func:`hashguard.store.seen_log.seen_row`); returns at once."""
        ...

    def flush(self) -> int: ...

    def records(
        self, *, content_key: str | None = None, column: str | None = None,
        value: str | None = None, ids: Sequence[int] | None = None, limit: int = 1000,
        values: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Oldest first: all, one item's, those with one hash (``column`` md5, sha256 or
        pdq equal to ``value``, or to any of ``values``), or those with these ids."""
        ...

    def pdq_after(self, after: int, limit: int = 100_000) -> list[tuple[int, str]]:
        """(id, pdq) of the rows after id ``after`` with a PDQ hash, in id order."""
        ...

    def last_id(self) -> int: ...

    def claim(self, owner: str, seconds: float) -> bool:
        """The retroactive matcher's lease (one across replicas): True if ``owner`` holds it."""
        ...

    def cursor(self, name: str) -> int:
        """A follower's position, kept in the store (0 at first)."""
        ...

    def set_cursor(self, name: str, value: int) -> None: ...

    def purge(self, before: date) -> int:
        """Delete every day before ``before``; returns how many rows."""
        ...


class AuditLog(Protocol):
    """Who changed what, when: append-only."""

    def append(self, actor: str, action: str, target: str | None, detail: dict[str, Any]) -> None:
        """A record of something that changes nothing else (an alarm)."""
        ...

    def read(self, *, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]: ...

    def latest(self, limit: int = 300) -> list[dict[str, Any]]:
        """The newest ``limit`` records, newest first."""
        ...


class Repositories(BankRepository, ChangeLog, Protocol):
    """A whole store: what the engine, the runtime, the API and the CLI are given."""

    @property
    def keys(self) -> KeyRepository: ...

    @property
    def sources(self) -> SourceRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def policies(self) -> PolicyRepository: ...

    @property
    def match_log(self) -> MatchLogRepository: ...

    @property
    def seen_log(self) -> SeenLogRepository: ...

    @property
    def flood_guard(self) -> FloodGuard:
        """The policy's flood-guard counts, shared by every process using the store."""
        ...

    @property
    def work_dir(self) -> Path:
        """Owner-only room for files as secret as the lists (downloads)."""
        ...

    @property
    def safe_url(self) -> str:
        """Where the store is, without its password."""
        ...

    def after_write(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after each committed change to banks or entries made here."""
        ...

    def close(self) -> None: ...
