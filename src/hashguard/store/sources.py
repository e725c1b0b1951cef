"""Upstream lists in the SQL store: which bank each one feeds, its checkpoint, its last
outcome, and the lease that lets one process at a time sync across every replica."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from hashguard.errors import Conflict
from hashguard.sources.model import Source, check_new_source, decoded_checkpoint, no_source
from hashguard.store import audit
from hashguard.store import tables as t
from hashguard.store.database import begin_write

LEASE = "sync_lease"  # its row in hg_meta


def _source(r: Any) -> Source:
    return Source(
        r.name, r.kind, r.bank, r.url, json.loads(r.settings), r.checkpoint, bool(r.enabled),
        r.last_attempt_at, r.last_success_at, r.last_error,
    )  # fmt: skip


def lease_value(owner: str, seconds: float, now: float) -> str:
    return json.dumps({"owner": owner, "until": now + seconds})


def lease_taken(current: str, owner: str, now: float) -> bool:
    """Whether the lease ``current`` is held by someone else and still running."""
    held = json.loads(current)
    return bool(held["owner"] != owner and held["until"] > now)


def claim_lease(engine: Engine, key: str, owner: str, seconds: float) -> bool:
    """Take or renew the lease ``key`` (a row of hg_meta) for ``seconds``: True if ``owner``
    holds it now. A compare-and-set on one row, so it works the same on SQLite and
    PostgreSQL, and a holder that dies simply lets its lease run out."""
    now = time.time()
    mine = lease_value(owner, seconds, now)
    m = t.meta
    with begin_write(engine) as conn:
        current = conn.scalar(select(m.c.value).where(m.c.key == key))
        if current is None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(m).values(key=key, value=mine))
                return True
            except IntegrityError:
                return False
        if lease_taken(current, owner, now):
            return False
        done = conn.execute(
            update(m).where(m.c.key == key, m.c.value == current).values(value=mine)
        ).rowcount
        return bool(done)


class Sources:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self, name: str, kind: str, bank: str, url: str, settings: Mapping[str, Any], *,
        actor: str,
    ) -> Source:  # fmt: skip
        check_new_source(name, kind)
        try:
            with begin_write(self.engine) as conn:
                conn.execute(
                    insert(t.sources).values(
                        name=name,
                        kind=kind,
                        bank=bank,
                        url=url,
                        settings=json.dumps(dict(settings), sort_keys=True),
                        enabled=True,
                    )
                )
                audit.record(
                    conn, actor, "source.add", name, {"kind": kind, "bank": bank, "url": url}
                )
        except IntegrityError:
            raise Conflict(f"a source named {name!r} already exists") from None
        return self.get(name)

    def remove(self, name: str, *, actor: str) -> None:
        with begin_write(self.engine) as conn:
            if not conn.execute(delete(t.sources).where(t.sources.c.name == name)).rowcount:
                raise no_source(name)
            audit.record(conn, actor, "source.remove", name, {})

    def get(self, name: str) -> Source:
        with self.engine.connect() as conn:
            r = conn.execute(select(t.sources).where(t.sources.c.name == name)).first()
        if r is None:
            raise no_source(name)
        return _source(r)

    def list(self) -> list[Source]:
        with self.engine.connect() as conn:
            return [_source(r) for r in conn.execute(select(t.sources).order_by(t.sources.c.name))]

    def save_checkpoint(self, conn: Connection, name: str, checkpoint: str) -> None:
        """Called inside the transaction that applies the batch the checkpoint follows, so
        the two commit together: a crash loses neither and repeats nothing."""
        conn.execute(
            update(t.sources).where(t.sources.c.name == name).values(checkpoint=checkpoint)
        )

    def reset_checkpoint(self, name: str, *, actor: str) -> Source:
        """Forget how far the source got: its next sync starts over from the upstream's
        snapshot (what to do after a publisher rebuilt its feed). Audited."""
        before = self.get(name)
        with begin_write(self.engine) as conn:
            conn.execute(update(t.sources).where(t.sources.c.name == name).values(checkpoint=None))
            detail = {"checkpoint": decoded_checkpoint(before.checkpoint)}
            audit.record(conn, actor, "source.reset", name, detail)
        return self.get(name)

    def record_outcome(self, name: str, error: str | None) -> None:
        values: dict[str, Any] = {"last_attempt_at": func.now(), "last_error": error}
        if error is None:
            values["last_success_at"] = func.now()
        with begin_write(self.engine) as conn:
            conn.execute(update(t.sources).where(t.sources.c.name == name).values(**values))

    def claim(self, owner: str, seconds: float) -> bool:
        """Take or renew the sync lease for ``seconds``: True if ``owner`` holds it now."""
        return claim_lease(self.engine, LEASE, owner, seconds)
