"""The SQL store: banks, entries and the change log in SQLite or PostgreSQL (the checks
around each write are in :mod:`hashguard.store.curation`)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from hashguard.banks.model import Bank, Change, Entry, ImportReport, thresholds_json
from hashguard.errors import ConfigError, Conflict, RowError
from hashguard.lists.rows import ListRow
from hashguard.signals.base import Signal
from hashguard.signals.registry import Registry, shared_registry
from hashguard.store import audit, notify
from hashguard.store import tables as t
from hashguard.store.adds import EntryAdd, GroupCommit
from hashguard.store.curation import Curation
from hashguard.store.database import (
    LOCK_WAIT,
    KeptConnection,
    begin_write,
    default_db_url,
    migrate,
    open_engine,
)
from hashguard.store.flood_table import SqlFloodGuard
from hashguard.store.importer import apply_list
from hashguard.store.kept_table import KeptContent
from hashguard.store.key_table import Keys
from hashguard.store.match_log import MatchLog
from hashguard.store.policy_table import Policies
from hashguard.store.report_table import Reports
from hashguard.store.repositories import Added, Repositories
from hashguard.store.review_table import Reviews
from hashguard.store.seen_log import SeenLog
from hashguard.store.sources import Sources
from hashguard.store.stats_table import Stats
from hashguard.store.user_table import Users
from hashguard.store.webhook_table import Webhooks
from hashguard.store.workdir import clean_stale, work_dir

__all__ = ["Store", "default_db_url"]

log = logging.getLogger(__name__)

# Every writer of the change log takes this lock, so sequence numbers become visible in order
# and a process tailing the log can never skip one that commits late. It is keyed by schema:
# stores in other schemas of the same database have logs (and locks) of their own.
# Sent with the lock (a round trip less): the notification goes out only if the transaction
# commits, so sending it first is as good as last.
_PG_LOCK = (
    "SELECT pg_advisory_xact_lock(hashtextextended('hashguard:' || current_schema(), 0)), "
    + notify.PG_NOTIFY
)

IN_LIST = 10_000  # keys bound in one IN (...) list
RESTAT_AFTER = 1_000  # changes in one import after which PostgreSQL's statistics are refreshed

# Built once: building a statement costs more than running it (~0.4 ms against ~0.1 ms on
# SQLite), and these run on the request path whenever a hit's entry is not cached.
_ENTRIES = (
    select(t.entries, t.banks.c.name.label("bank"))
    .join(t.banks, t.banks.c.id == t.entries.c.bank_id)
    .where(t.entries.c.id.in_(bindparam("pks", expanding=True)))
)
# In the order they were added (as an add's answer lists them): without an ORDER BY,
# PostgreSQL returns them in whatever order its plan reads them.
_ENTRY_SIGNALS = (
    select(t.entry_signals)
    .where(t.entry_signals.c.entry_id.in_(bindparam("pks", expanding=True)))
    .order_by(t.entry_signals.c.id)
)
# The follower's query, run in every worker's every round.
_CHANGES_AFTER = (
    select(
        t.changes.c.seq, t.changes.c.kind, t.changes.c.bank_id, t.changes.c.entry_id,
        t.entry_signals.c.signal_type, t.entry_signals.c.value,
    )
    .outerjoin(t.entry_signals, t.entry_signals.c.id == t.changes.c.signal_id)
    .where(t.changes.c.seq > bindparam("seq", type_=BigInteger))
    .order_by(t.changes.c.seq)
    .limit(bindparam("limit", type_=Integer))
)  # fmt: skip


class Store(Curation):
    def __init__(
        self,
        url: str,
        *,
        create: bool = True,
        lock_wait: float = LOCK_WAIT,
        registry: Registry | None = None,
    ) -> None:
        self.url = url
        self.registry = registry or shared_registry()  # what bank thresholds are checked by
        self.engine = open_engine(url, lock_wait=lock_wait)
        try:
            if create:
                migrate(self.engine)
            self.store_id = self._store_id()
        except OperationalError as e:
            raise ConfigError(f"cannot open database {self.safe_url}: {e.orig}") from None
        # Owner-only room for files as secret as the lists (downloads); a crash's leftovers
        # are removed here and whenever work starts there.
        self.work_dir = work_dir(url)
        clean_stale(self.work_dir)
        self.keys = Keys(self.engine)
        self.sources = Sources(self.engine)
        self.policies = Policies(self.engine, self._writing)
        self.match_log = MatchLog(self.engine)
        self.webhooks = Webhooks(self.engine)
        # The review console's (SQL only, like webhooks: the console needs a real store).
        self.users = Users(self.engine)
        self.reviews = Reviews(self.engine)
        self.kept = KeptContent(self.engine)
        self.reports = Reports(self.engine)
        self.stats = Stats(self.engine)
        self.seen_log = SeenLog(self.engine)
        self.flood_guard = SqlFloodGuard(self.engine)
        self.audit = audit.Audit(self.engine)
        self._after_write: list[Callable[[], None]] = []
        # Kept for what runs many times a second: changes are written on one, and the
        # followers' rounds read the log on the other (PostgreSQL; see KeptConnection).
        self._writer = KeptConnection(self.engine)
        self._reader = KeptConnection(self.engine, autocommit=True)
        self._adds = GroupCommit(self._writing)

    @property
    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self._adds.close()
        self.match_log.close()
        self.seen_log.close()
        self.flood_guard.close()
        self._writer.close()
        self._reader.close()
        self.engine.dispose()

    def _store_id(self) -> str:
        """A random id fixed at creation: snapshots name the database they belong to."""
        query = select(t.meta.c.value).where(t.meta.c.key == "store_id")
        with self.engine.connect() as conn:  # opening a store never waits for a writer
            found = conn.scalar(query)
        if found is not None:
            return str(found)
        with begin_write(self.engine) as conn:
            found = conn.scalar(query)
            if found is not None:
                return str(found)
            new = uuid.uuid4().hex
            conn.execute(insert(t.meta).values(key="store_id", value=new))
            return new

    def after_write(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after each committed change to banks or entries made here."""
        self._after_write.append(callback)

    def listen(self, wake: Callable[[], object]) -> notify.Listener | None:
        """On PostgreSQL, ``wake`` is called after each change committed anywhere (NOTIFY);
        SQLite cannot tell: its readers poll."""
        return notify.Listener(self.engine, wake) if self.dialect == "postgresql" else None

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """A transaction that may append to the change log."""
        with begin_write(self.engine, self._writer) as conn:
            if self.dialect == "postgresql":
                conn.execute(text(_PG_LOCK))  # and the NOTIFY
            yield conn
        for callback in self._after_write:
            callback()

    # banks

    def _add_bank(self, bank: Bank, detail: dict[str, Any], actor: str) -> Bank:
        stored = json.dumps(detail["match_fields"]) if "match_fields" in detail else None
        try:
            with self._writing() as conn:
                bank_id = conn.execute(
                    insert(t.banks).values(
                        name=bank.name,
                        thresholds=thresholds_json(bank.thresholds),
                        enabled=True,
                        match_fields=stored,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
                conn.execute(insert(t.changes).values(kind="bank", bank_id=bank_id))
                audit.record(conn, actor, "bank.create", bank.name, detail)
        except IntegrityError:
            raise Conflict(f"bank {bank.name!r} already exists") from None
        return replace(bank, id=bank_id)

    def _change_bank(self, bank: Bank, detail: dict[str, Any], actor: str) -> None:
        values = dict(detail)
        if "thresholds" in values:
            values["thresholds"] = thresholds_json(values["thresholds"])
        if "match_fields" in values:
            values["match_fields"] = json.dumps(values["match_fields"])
        with self._writing() as conn:
            conn.execute(update(t.banks).where(t.banks.c.id == bank.id).values(**values))
            conn.execute(insert(t.changes).values(kind="bank", bank_id=bank.id))
            audit.record(conn, actor, "bank.update", bank.name, detail)

    def delete_bank(self, name: str, *, actor: str = "local") -> int:
        """Retract every active entry (logged, so indexes drop them) and retire the bank.

        Its rows stay, under the name ``#<id>``, so what it listed remains answerable and
        the name can be used again. Returns how many entries were retracted.
        """
        bank = self.bank(name)
        with self._writing() as conn:
            params = {"b": bank.id}
            conn.execute(
                text(
                    "INSERT INTO hg_changes (kind, bank_id, entry_id, signal_id)"
                    " SELECT 'retract', e.bank_id, s.entry_id, s.id"
                    " FROM hg_entries e JOIN hg_entry_signals s ON s.entry_id = e.id"
                    " WHERE e.bank_id = :b AND e.status = 'active'"
                    " ORDER BY s.id"
                ),
                params,
            )
            retracted = conn.execute(
                text(
                    "UPDATE hg_entries SET status = 'retracted'"
                    " WHERE bank_id = :b AND status = 'active'"
                ),
                params,
            ).rowcount
            conn.execute(
                update(t.banks)
                .where(t.banks.c.id == bank.id)
                .values(name=f"#{bank.id}", deleted_name=name, deleted_at=func.now(), enabled=False)
            )
            conn.execute(insert(t.changes).values(kind="bank", bank_id=bank.id))
            audit.record(conn, actor, "bank.delete", name, {"entries_retracted": retracted})
        return int(retracted)

    def banks(self) -> list[Bank]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.banks).where(t.banks.c.deleted_at.is_(None)).order_by(t.banks.c.name)
            ).all()
        return [Bank.from_row(r) for r in rows]

    def bank_counts(self) -> dict[str, dict[str, int]]:
        """Entries per bank and status."""
        q = (
            select(t.banks.c.name, t.entries.c.status, func.count())
            .join(t.entries, t.entries.c.bank_id == t.banks.c.id)
            .where(t.banks.c.deleted_at.is_(None))
            .group_by(t.banks.c.name, t.entries.c.status)
        )
        out: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for name, status, count in conn.execute(q):
                out.setdefault(name, {})[status] = count
        return out

    # lists

    def _import(
        self, bank: Bank, rows: Iterable[ListRow], errors: list[RowError], source: str,
        audit_as: tuple[str, str], checkpoint: tuple[str, str] | None,
    ) -> ImportReport:  # fmt: skip
        actor, action = audit_as
        with self._writing() as conn:
            report = apply_list(conn, bank.id, bank.name, rows, errors, source)
            audit.record(conn, actor, action, bank.name, {"source": source, **report.as_dict()})
            if checkpoint is not None:
                self.sources.save_checkpoint(conn, *checkpoint)
        if report.first_seq is not None and report.last_seq is not None:
            self._restat(report.last_seq - report.first_seq + 1)
        return report

    def _restat(self, changed: int) -> None:
        """After a large import, refresh PostgreSQL's planner statistics at once. Until
        autovacuum gets to it (a minute or more later), the planner guesses a third of the
        change log follows any sequence number and hash-joins the whole of both tables:
        7.5 ms per follower round at 20,000 entries instead of 0.05 ms, a round every 50 ms
        in every worker while adds stream in."""
        if self.dialect != "postgresql" or changed < RESTAT_AFTER:
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(text("ANALYZE hg_entries, hg_entry_signals, hg_changes"))
        except SQLAlchemyError:  # the import has committed; autovacuum will analyze later
            log.warning("could not ANALYZE after an import of %d changes", changed, exc_info=True)

    def submit_entry(
        self, bank_name: str, rows: Sequence[ListRow], *, actor: str = "local",
        action: str = "entry.add",
    ) -> Future[Added]:  # fmt: skip
        """Add one entry (``rows`` as :func:`~hashguard.lists.rows.entry_rows` makes them),
        with the outcome of a one-entry :meth:`import_rows`; the future holds the report and
        the entry once the transaction holding it has committed. Adds submitted while another
        commits share the next transaction (see :mod:`hashguard.store.adds`)."""
        return self._adds.submit(EntryAdd(bank_name, tuple(rows), actor, action))

    def _entry_pk(self, bank: Bank, entry_id: str) -> int | None:
        with self.engine.connect() as conn:
            pk = conn.scalar(
                select(t.entries.c.id).where(
                    t.entries.c.bank_id == bank.id, t.entries.c.source_id == entry_id
                )
            )
        return None if pk is None else int(pk)

    def export_rows(
        self, bank_name: str, *, include_retracted: bool = False
    ) -> Iterator[dict[str, Any]]:
        """One dict per (entry, signal), in the list format's columns."""
        bank = self.bank(bank_name)
        e, s = t.entries, t.entry_signals
        q = (
            select(e, s.c.signal_type, s.c.value, s.c.quality)
            .join(s, s.c.entry_id == e.c.id)
            .where(e.c.bank_id == bank.id)
            .order_by(e.c.id, s.c.signal_type, s.c.value)
        )
        if not include_retracted:
            q = q.where(e.c.status == "active")
        with self.engine.connect() as conn:
            for r in conn.execution_options(stream_results=True, yield_per=10_000).execute(q):
                row: dict[str, Any] = {
                    "signal_type": r.signal_type,
                    "signal": r.value,
                    "id": r.source_id,
                }
                if r.status == "retracted":
                    row["action"] = "retract"
                for key in ("category", "severity", "note", "quality"):
                    if getattr(r, key) is not None:
                        row[key] = getattr(r, key)
                if r.extra:
                    row.update(json.loads(r.extra))
                yield row

    # entries

    def entries(self, pks: Sequence[int], *, signals: bool = True) -> dict[int, Entry]:
        """Entries by primary key, with their bank's name and (unless ``signals`` is False:
        one query instead of two, for matches that need no signal of the entry) signals."""
        if not pks:
            return {}
        unique = list(set(pks))
        sigs: dict[int, list[Signal]] = {}
        rows: list[Any] = []
        with self.engine.connect() as conn:
            # One bound variable per key, so in slices: SQLite takes 32,766 at most.
            for start in range(0, len(unique), IN_LIST):
                wanted = {"pks": unique[start : start + IN_LIST]}
                rows.extend(conn.execute(_ENTRIES, wanted).all())
                if signals:
                    for r in conn.execute(_ENTRY_SIGNALS, wanted):
                        sigs.setdefault(r.entry_id, []).append(
                            Signal(r.signal_type, r.value, r.quality)
                        )
        return {
            r.id: Entry(
                pk=r.id, bank=r.bank, id=r.source_id, signals=tuple(sigs.get(r.id, ())),
                status=r.status, category=r.category, severity=r.severity, note=r.note,
                extra=json.loads(r.extra) if r.extra else {},
            )
            for r in rows
        }  # fmt: skip

    # change log

    def last_seq(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.coalesce(func.max(t.changes.c.seq), 0))) or 0)

    def count_changes_after(self, seq: int, limit: int) -> int:
        """How many changes are logged after ``seq``, counting at most ``limit``. Rows, not
        sequence numbers: on PostgreSQL a rolled-back transaction leaves a gap in those."""
        c = t.changes
        pending = select(c.c.seq).where(c.c.seq > seq).order_by(c.c.seq).limit(limit).subquery()
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(pending)) or 0)

    def changes_after(self, seq: int, limit: int = 100_000) -> list[Change]:
        with self._reader.use() as conn:
            rows = conn.execute(_CHANGES_AFTER, {"seq": seq, "limit": limit})
            return [Change(*r) for r in rows]

    def active_signals(self, signal_types: Sequence[str]) -> tuple[int, Iterator[Any]]:
        """Every active (type, value, entry_pk, bank_id) row, and the change-log sequence
        number they are current as of: what an index is built from.

        The number is read inside the same statement as the rows, so both come from one
        snapshot (SQLite runs each statement on one snapshot; PostgreSQL likewise).
        """
        e, s, c = t.entries, t.entry_signals, t.changes
        at_seq = select(func.coalesce(func.max(c.c.seq), 0)).scalar_subquery()
        q = (
            select(s.c.signal_type, s.c.value, e.c.id, e.c.bank_id, at_seq.label("at_seq"))
            .join(e, e.c.id == s.c.entry_id)
            .where(e.c.status == "active", s.c.signal_type.in_(signal_types))
        )
        before = self.last_seq()
        conn = self.engine.connect()
        result = conn.execution_options(yield_per=50_000).execute(q)
        first = result.fetchone()
        if first is None:
            conn.close()
            return before, iter(())

        def rows() -> Iterator[Any]:
            try:
                yield first
                yield from result
            finally:
                conn.close()

        return int(first.at_seq), rows()


if TYPE_CHECKING:  # mypy holds the class to the interfaces
    _KEEPS: Repositories = Store("")
