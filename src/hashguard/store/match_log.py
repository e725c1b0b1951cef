"""The match log and the outbox in the SQL store: kept verdicts, written by a writer thread
in batches (group commit), each batch one transaction holding its items' match-log rows and
outbox events; a caller's future is settled after that commit, so an answered verdict is
durable."""

from __future__ import annotations

import json
from concurrent.futures import Future
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Delete, Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from hashguard.actions.model import Checked, Logged
from hashguard.store import tables as t
from hashguard.store.database import KeptConnection, begin_write
from hashguard.store.review_table import HELD, hold
from hashguard.store.writer import GroupWriter

_CONTEXT = ("content_id", "chat_id", "uploader_id", "surface", "event_time")
PURGE_BATCH = 10_000  # rows deleted per transaction


def purge_batches(engine: Engine, statement: Delete) -> int:
    """Run a ``DELETE ... WHERE id IN (... LIMIT n)`` until it deletes nothing."""
    total = 0
    while True:
        with begin_write(engine) as conn:
            n = conn.execute(statement).rowcount
        total += n
        if not n:
            return total


def _row(c: Checked) -> dict[str, Any]:
    return {
        "verdict": c.verdict.label,
        "shadow": c.shadow.label if c.shadow is not None else None,
        "retroactive": c.retroactive,
        "policy_version": c.policy_version,
        "list_seq": c.list_seq,
        "content_key": c.content_key[:300],
        **{k: c.context.get(k) for k in _CONTEXT},
        "matches": json.dumps(list(c.matches)),
        "reasons": json.dumps(list(c.reasons)),
        "signals": json.dumps(c.signals),
    }


def _record(r: Any) -> dict[str, Any]:
    out = {
        "id": r.id, "at": r.at.isoformat(), "verdict": r.verdict, "shadow": r.shadow,
        "retroactive": bool(r.retroactive), "policy_version": r.policy_version,
        "list_seq": r.list_seq, "content_key": r.content_key,
        "context": {k: v for k in _CONTEXT if (v := getattr(r, k)) is not None},
        "matches": json.loads(r.matches), "reasons": json.loads(r.reasons),
        "signals": json.loads(r.signals),
    }  # fmt: skip
    return out


def _write(conn: Connection, item: Checked) -> Logged:
    """``item``'s match-log row and, if acted on, its outbox event."""
    row = conn.execute(
        insert(t.match_log).values(**_row(item)).returning(t.match_log.c.id, t.match_log.c.at)
    ).one()
    if not item.acted:
        return Logged(row.id, None)
    if item.verdict.label in HELD:
        hold(conn, item, row.id)
    event = item.event(row.id, row.at.isoformat())
    conn.execute(
        insert(t.outbox).values(
            event_id=item.event_id, match_id=row.id, kind=event["type"],
            content_key=item.content_key[:300], payload=json.dumps(event),
        )
    )  # fmt: skip
    return Logged(row.id, item.event_id)


class MatchLogWriter(GroupWriter[Checked, Logged]):
    name = "hashguard-verdicts"

    def __init__(self, engine: Engine, kept: KeptConnection) -> None:
        super().__init__()
        self._engine = engine
        self._kept = kept

    def write(self, batch: list[tuple[Checked, Future[Logged]]]) -> None:
        pending = [p for p in batch if p[1].set_running_or_notify_cancel()]
        if not pending:
            return
        logged: list[Logged] = []
        # Not the change log's lock: verdicts never wait for an import on PostgreSQL (on
        # SQLite every writer takes the one write lock).
        with begin_write(self._engine, self._kept) as conn:
            for item, _ in pending:
                logged.append(_write(conn, item))
        for (_, future), result in zip(pending, logged, strict=True):
            future.set_result(result)
        self.batches += 1
        self.largest = max(self.largest, len(pending))


class MatchLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._kept = KeptConnection(engine)
        self._writer = MatchLogWriter(engine, self._kept)

    def record_once(self, item: Checked) -> Logged | None:
        """Write ``item`` in a transaction of its own, unless its event is there already
        (its ``event_id`` is unique in the outbox): None then, and nothing written."""
        try:
            with begin_write(self.engine) as conn:
                return _write(conn, item)
        except IntegrityError:
            return None

    def submit(self, item: Checked) -> Future[Logged]:
        """Keep ``item``; the future is settled once it is committed (or the write failed)."""
        return self._writer.submit(item)

    def records(self, *, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        m = t.match_log
        with self.engine.connect() as conn:
            rows = conn.execute(select(m).where(m.c.id > after).order_by(m.c.id).limit(limit))
            return [_record(r) for r in rows]

    def events(self, *, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """Outbox events in delivery order: ``{"id", "event"}``."""
        o = t.outbox
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(o.c.id, o.c.payload).where(o.c.id > after).order_by(o.c.id).limit(limit)
            )
            return [{"id": r.id, "event": json.loads(r.payload)} for r in rows]

    def purge(self, before: datetime, *, batch: int = PURGE_BATCH) -> int:
        """Delete the records made before ``before``, ``batch`` rows a transaction (a purge
        never holds the table long); returns how many. Their outbox events are the
        webhooks' to purge (:meth:`~hashguard.store.webhook_table.Webhooks.purge`)."""
        m = t.match_log
        oldest = select(m.c.id).where(m.c.at < before).order_by(m.c.id).limit(batch)
        return purge_batches(self.engine, delete(m).where(m.c.id.in_(oldest.scalar_subquery())))

    def close(self) -> None:
        self._writer.close()
        self._kept.close()
