"""The flood guard's counts in the SQL store, so that a rule's cap holds across every
worker and replica (:class:`~hashguard.policy.decide.MemoryFloodGuard` counts in one
process only)."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine, delete
from sqlalchemy.dialects import postgresql, sqlite

from hashguard.policy.decide import DAY, HOUR
from hashguard.policy.model import Rule
from hashguard.store import tables as t
from hashguard.store.database import KeptConnection, begin_write


class _AtCap(Exception):
    pass


class SqlFloodGuard:
    """Each take is one short transaction: per window, an upsert that counts up only while
    under the cap (``ON CONFLICT ... DO UPDATE ... WHERE n < cap``, atomic per row on both
    databases); a window at its cap rolls the whole take back."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self._clock = clock
        self._kept = KeptConnection(engine)
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    def take(self, rule: Rule) -> bool:
        now = int(self._clock())
        try:
            self._count(rule, now)
        except _AtCap:  # rolled back: nothing counted in any window
            return False
        return True

    def _count(self, rule: Rule, now: int) -> None:
        f = t.flood_counts
        with begin_write(self.engine, self._kept) as conn:
            for window, cap in ((DAY, rule.cap_per_day), (HOUR, rule.cap_per_hour)):
                if cap is None:
                    continue
                index = now // window
                stmt = self._insert(f).values(
                    key=f"{rule.name}:{window}:{index}", n=1, until=(index + 1) * window
                )
                counted = conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[f.c.key], set_={"n": f.c.n + 1}, where=f.c.n < cap
                    ).returning(f.c.n)
                ).first()
                if counted is None:
                    raise _AtCap

    def purge(self, now: float | None = None) -> int:
        """Forget windows that ended a day ago or more."""
        cutoff = (self._clock() if now is None else now) - DAY
        f = t.flood_counts
        with begin_write(self.engine) as conn:
            return int(conn.execute(delete(f).where(f.c.until < cutoff)).rowcount)

    def close(self) -> None:
        self._kept.close()
