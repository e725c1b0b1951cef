"""Policies in the SQL store: one row per version set, the newest in force."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from hashguard.banks.model import NO_BANK
from hashguard.policy.model import PolicyRecord
from hashguard.store import audit
from hashguard.store import tables as t


def _record(r: Any) -> PolicyRecord:
    return PolicyRecord(r.version, json.loads(r.document), r.actor, r.created_at.isoformat())


class Policies:
    def __init__(
        self, engine: Engine, writing: Callable[[], AbstractContextManager[Connection]]
    ) -> None:
        self.engine = engine
        self._writing = writing  # the change log's: followers learn of a new policy from it

    def current(self) -> PolicyRecord | None:
        """The policy in force; None until one is set (the built-in default applies)."""
        found = self.history(limit=1)
        return found[0] if found else None

    def history(self, *, limit: int = 50) -> list[PolicyRecord]:
        """The newest ``limit`` versions, newest first."""
        p = t.policies
        with self.engine.connect() as conn:
            rows = conn.execute(select(p).order_by(p.c.version.desc()).limit(limit))
            return [_record(r) for r in rows]

    def set(self, document: dict[str, Any], *, actor: str) -> PolicyRecord:
        """Store ``document`` (already checked) as the next version, in force at once."""
        with self._writing() as conn:
            version = conn.execute(
                insert(t.policies).values(document=json.dumps(document), actor=actor[:128])
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(insert(t.changes).values(kind="policy", bank_id=NO_BANK))
            audit.record(conn, actor, "policy.set", f"v{version}", {"version": version})
            row = conn.execute(select(t.policies).where(t.policies.c.version == version)).one()
        return _record(row)
