"""Upstream lists in the store: which bank each one feeds, its checkpoint, its last outcome,
and the lease that lets one process at a time sync across every replica."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from hashguard import plugins
from hashguard.banks.model import validate_name
from hashguard.errors import Conflict, InvalidValue, NotFound
from hashguard.store import audit
from hashguard.store import tables as t
from hashguard.store.database import begin_write

DEFAULT_INTERVAL = 900  # seconds between scheduled syncs of one source
_LEASE = "sync_lease"


@dataclass(frozen=True)
class Source:
    name: str
    kind: str
    bank: str
    url: str
    settings: dict[str, Any] = field(default_factory=dict)
    checkpoint: str | None = None
    enabled: bool = True
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None

    @property
    def interval(self) -> int:
        return int(self.settings.get("interval", DEFAULT_INTERVAL))

    def as_dict(self) -> dict[str, Any]:
        def when(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "name": self.name, "kind": self.kind, "bank": self.bank, "url": self.url,
            "settings": self.settings, "enabled": self.enabled,
            "checkpoint": _decoded(self.checkpoint),
            "last_attempt_at": when(self.last_attempt_at),
            "last_success_at": when(self.last_success_at), "last_error": self.last_error,
        }  # fmt: skip


def _decoded(checkpoint: str | None) -> Any:
    """A checkpoint as JSON for people, even a damaged one (to be reset, not to crash on)."""
    if not checkpoint:
        return None
    try:
        return json.loads(checkpoint)
    except ValueError:
        return {"unreadable": checkpoint}


def _source(r: Any) -> Source:
    return Source(
        r.name, r.kind, r.bank, r.url, json.loads(r.settings), r.checkpoint, bool(r.enabled),
        r.last_attempt_at, r.last_success_at, r.last_error,
    )  # fmt: skip


class Sources:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self, name: str, kind: str, bank: str, url: str, settings: Mapping[str, Any], *,
        actor: str,
    ) -> Source:  # fmt: skip
        validate_name(name, "source")
        kinds = plugins.load(plugins.SOURCE_KINDS)  # installed kinds (hashguard.plugins)
        if kind not in kinds:
            raise InvalidValue(f"unknown source kind {kind!r}: use {', '.join(kinds)}")
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
                raise NotFound(
                    f"no source named {name!r}",
                    cli_hint="see `hashguard sources list`",
                    http_hint="see GET /v1/sources",
                )
            audit.record(conn, actor, "source.remove", name, {})

    def get(self, name: str) -> Source:
        with self.engine.connect() as conn:
            r = conn.execute(select(t.sources).where(t.sources.c.name == name)).first()
        if r is None:
            raise NotFound(
                f"no source named {name!r}",
                cli_hint="see `hashguard sources list`",
                http_hint="see GET /v1/sources",
            )
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
            audit.record(
                conn,
                actor,
                "source.reset",
                name,
                {"checkpoint": _decoded(before.checkpoint)},
            )
        return self.get(name)

    def record_outcome(self, name: str, error: str | None) -> None:
        values: dict[str, Any] = {"last_attempt_at": func.now(), "last_error": error}
        if error is None:
            values["last_success_at"] = func.now()
        with begin_write(self.engine) as conn:
            conn.execute(update(t.sources).where(t.sources.c.name == name).values(**values))

    def claim(self, owner: str, seconds: float) -> bool:
        """Take or renew the sync lease for ``seconds``: True if ``owner`` holds it now.

        A compare-and-set on one row, so it works the same on SQLite and PostgreSQL, and a
        holder that dies simply lets its lease run out.
        """
        now = time.time()
        mine = json.dumps({"owner": owner, "until": now + seconds})
        m = t.meta
        with begin_write(self.engine) as conn:
            current = conn.scalar(select(m.c.value).where(m.c.key == _LEASE))
            if current is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(m).values(key=_LEASE, value=mine))
                    return True
                except IntegrityError:
                    return False
            held = json.loads(current)
            if held["owner"] != owner and held["until"] > now:
                return False
            done = conn.execute(
                update(m).where(m.c.key == _LEASE, m.c.value == current).values(value=mine)
            ).rowcount
            return bool(done)
