"""DSA statements of reasons in the SQL store: the restrictions they are made of, read in
pages (the match log's blocks, the held items a reviewer confirmed), and the statements the
Transparency Database accepted (``hg_dsa_statements``), by puid."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from hashguard.store import tables as t
from hashguard.store.database import begin_write

PAGE = 500  # rows read per query


@dataclass(frozen=True)
class Restriction:
    """One restriction hashguard made: a block in the match log (``review_id`` None), or a
    held item a reviewer confirmed (``review_id``, ``decided_at``). The match-log fields
    are those of the item's first match-log row, None where it was purged."""

    match_id: int
    review_id: int | None
    decided_at: datetime  # the decision: the block's time, or the reviewer's
    matched_at: datetime | None
    event_time: str | None
    retroactive: bool
    matches: tuple[dict[str, Any], ...]
    signals: dict[str, Any]
    bank: str | None = None  # the held item's, where its match-log row is gone


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _json(text: str | None, default: Any) -> Any:
    try:
        return json.loads(text) if text else default
    except ValueError:
        return default


def blocks(engine: Engine, start: datetime, end: datetime) -> Iterator[Restriction]:
    """The match log's block verdicts, live or retroactive, made in [start, end), by id.
    ``verdict`` is what was done; a shadow verdict only was recorded, and is not read."""
    m = t.match_log
    after = 0
    while True:
        q = (
            select(m.c.id, m.c.at, m.c.event_time, m.c.retroactive, m.c.matches, m.c.signals)
            .where(m.c.id > after, m.c.verdict == "block", m.c.at >= start, m.c.at < end)
            .order_by(m.c.id)
            .limit(PAGE)
        )
        with engine.connect() as conn:
            rows = conn.execute(q).all()
        for r in rows:
            at = _aware(r.at)
            yield Restriction(
                r.id,
                None,
                at,
                at,
                r.event_time,
                bool(r.retroactive),
                tuple(_json(r.matches, [])),
                _json(r.signals, {}),
            )
        if len(rows) < PAGE:
            return
        after = rows[-1].id


def confirmed(engine: Engine, start: datetime, end: datetime) -> Iterator[Restriction]:
    """The held items a reviewer confirmed in [start, end), by id, with their first
    match-log row where the log still has it."""
    r, m = t.reviews, t.match_log
    after = 0
    while True:
        q = (
            select(
                r.c.id,
                r.c.match_id,
                r.c.decided_at,
                r.c.created_at,
                r.c.bank,
                m.c.at,
                m.c.event_time,
                m.c.retroactive,
                m.c.matches,
                m.c.signals,
            )
            .select_from(r.outerjoin(m, m.c.id == r.c.match_id))
            .where(
                r.c.id > after,
                r.c.status == "confirmed",
                r.c.decided_at >= start.timestamp(),
                r.c.decided_at < end.timestamp(),
            )
            .order_by(r.c.id)
            .limit(PAGE)
        )
        with engine.connect() as conn:
            rows = conn.execute(q).all()
        for row in rows:
            matched = _aware(row.at) if row.at is not None else _aware(row.created_at)
            yield Restriction(
                row.match_id,
                row.id,
                datetime.fromtimestamp(row.decided_at, UTC),
                matched,
                row.event_time,
                bool(row.retroactive),
                tuple(_json(row.matches, [])),
                _json(row.signals, {}),
                row.bank,
            )
        if len(rows) < PAGE:
            return
        after = rows[-1].id


class DsaStatements:
    """The statements the Transparency Database holds, as far as hashguard knows."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def known(self, puids: Iterable[str]) -> set[str]:
        wanted = list(puids)
        if not wanted:
            return set()
        d = t.dsa_statements
        with self.engine.connect() as conn:
            return set(conn.execute(select(d.c.puid).where(d.c.puid.in_(wanted))).scalars())

    def record(self, rows: list[dict[str, Any]]) -> None:
        """Each ``{"puid", "match_id", "review_id", "sent_at", "uuid", "permalink"}``; a
        puid recorded already (by another submitter meanwhile) stays as it was."""
        if not rows:
            return
        with begin_write(self.engine) as conn:
            if conn.dialect.name == "postgresql":
                statement: Any = postgresql.insert(t.dsa_statements).on_conflict_do_nothing()
            elif conn.dialect.name == "sqlite":
                statement = sqlite.insert(t.dsa_statements).on_conflict_do_nothing()
            else:  # pragma: no cover - the SQL store runs on these two
                statement = insert(t.dsa_statements)
            conn.execute(statement, rows)

    def get(self, puid: str) -> dict[str, Any] | None:
        d = t.dsa_statements
        with self.engine.connect() as conn:
            row = conn.execute(select(d).where(d.c.puid == puid)).first()
        return dict(row._mapping) if row is not None else None
