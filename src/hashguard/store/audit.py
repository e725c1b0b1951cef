"""The audit log: one row per curation call, written in the same transaction as the change
it records, so there is never a change without its row or a row without its change."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from hashguard.store import tables as t

# Built once: every curation call writes one (a single add, say, where building and
# compiling the statement each time cost about as much as running it).
_RECORD = insert(t.audit)


def record(
    conn: Connection, actor: str, action: str, target: str | None, detail: dict[str, Any]
) -> None:
    row = {"actor": actor[:128], "action": action, "target": target}
    conn.execute(_RECORD, {**row, "detail": json.dumps(detail, default=str)})


class Audit:
    """The audit log of the SQL store, read and appended to on its own."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(self, actor: str, action: str, target: str | None, detail: dict[str, Any]) -> None:
        """A record of something that changes no table (an alarm), in a transaction of its own."""
        with self.engine.begin() as conn:
            record(conn, actor, action, target, detail)

    def read(self, *, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        a = t.audit
        q = select(a).where(a.c.id > after).order_by(a.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(q)]

    def latest(self, limit: int = 300) -> list[dict[str, Any]]:
        """The newest ``limit`` records, newest first."""
        q = select(t.audit).order_by(t.audit.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(q)]


def _row(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "at": r.at.isoformat() if isinstance(r.at, datetime) else r.at,
        "actor": r.actor,
        "action": r.action,
        "target": r.target,
        "detail": json.loads(r.detail) if r.detail else {},
    }
