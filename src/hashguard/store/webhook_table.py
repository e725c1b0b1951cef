"""Webhook endpoints and deliveries in the SQL store.

Each endpoint has a cursor into the outbox: fanning out turns the events after it that the
endpoint wants into delivery rows (pending), in one transaction with the cursor's move, so
an event is neither skipped nor queued twice. A delivery is then pending until delivered,
or dead after its last attempt (replayable)."""

from __future__ import annotations

import builtins
import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from hashguard.actions.webhooks import Webhook
from hashguard.errors import Conflict, NotFound
from hashguard.store import audit
from hashguard.store import tables as t
from hashguard.store.database import begin_write
from hashguard.store.match_log import PURGE_BATCH
from hashguard.store.sources import claim_lease

LEASE = "delivery_lease"
FAN_OUT = 1000  # outbox events taken per endpoint per pass


@dataclass(frozen=True)
class Delivery:
    id: int
    webhook_id: int
    outbox_id: int
    content_key: str
    attempts: int
    next_at: float
    payload: str  # the event, as JSON text: the body sent


def _webhook(r: Any) -> Webhook:
    return Webhook(r.id, r.name, r.url, tuple(r.events.split(",")), tuple(json.loads(r.secrets)),
                   bool(r.enabled))  # fmt: skip


class Webhooks:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, name: str, url: str, events: tuple[str, ...], secret: str, *, actor: str,
            from_now: bool = True) -> Webhook:  # fmt: skip
        """``from_now``: only events made after it is added (else the whole outbox)."""
        try:
            with begin_write(self.engine) as conn:
                start = conn.scalar(select(func.coalesce(func.max(t.outbox.c.id), 0)))
                conn.execute(insert(t.webhooks).values(
                    name=name, url=url, events=",".join(events), secrets=json.dumps([secret]),
                    enabled=True, cursor=start if from_now else 0,
                ))  # fmt: skip
                audit.record(conn, actor, "webhook.add", name, {"url": url, "events": events})
        except IntegrityError:
            raise Conflict(f"a webhook named {name!r} already exists") from None
        return self.get(name)

    def get(self, name: str) -> Webhook:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.webhooks).where(t.webhooks.c.name == name)).first()
        if row is None:
            raise NotFound(f"no webhook {name!r}", cli_hint="hashguard webhooks list")
        return _webhook(row)

    def list(self) -> list[Webhook]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.webhooks).order_by(t.webhooks.c.name))
            return [_webhook(r) for r in rows]

    def remove(self, name: str, *, actor: str) -> None:
        hook = self.get(name)
        with begin_write(self.engine) as conn:
            conn.execute(delete(t.deliveries).where(t.deliveries.c.webhook_id == hook.id))
            conn.execute(delete(t.webhooks).where(t.webhooks.c.id == hook.id))
            audit.record(conn, actor, "webhook.remove", name, {})

    def rotate(self, name: str, secret: str | None, *, actor: str) -> Webhook:
        """A new secret first, the current one kept beside it (both sign, so receivers can
        switch over); ``secret`` None retires every secret but the newest."""
        hook = self.get(name)
        secrets = [secret, hook.secrets[0]] if secret is not None else [hook.secrets[0]]
        with begin_write(self.engine) as conn:
            conn.execute(update(t.webhooks).where(t.webhooks.c.id == hook.id)
                         .values(secrets=json.dumps(secrets)))  # fmt: skip
            action = "webhook.rotate" if secret is not None else "webhook.retire"
            audit.record(conn, actor, action, name, {"secrets": len(secrets)})
        return self.get(name)

    def fan_out(self, now: float | None = None) -> int:
        """Queue the events each enabled endpoint wants; returns how many were queued."""
        now = time.time() if now is None else now
        queued = 0
        o, d = t.outbox, t.deliveries
        for hook in self.list():
            if not hook.enabled:
                continue
            with begin_write(self.engine) as conn:
                cursor = conn.scalar(select(t.webhooks.c.cursor).where(t.webhooks.c.id == hook.id))
                rows = conn.execute(
                    select(o.c.id, o.c.kind, o.c.content_key).where(o.c.id > cursor)
                    .order_by(o.c.id).limit(FAN_OUT)
                ).all()  # fmt: skip
                if not rows:
                    continue
                wanted = [
                    {"webhook_id": hook.id, "outbox_id": r.id, "content_key": r.content_key,
                     "status": "pending", "attempts": 0, "next_at": now}
                    for r in rows if hook.wants(r.kind)
                ]  # fmt: skip
                if wanted:
                    conn.execute(insert(d), wanted)
                conn.execute(update(t.webhooks).where(t.webhooks.c.id == hook.id,
                                                      t.webhooks.c.cursor == cursor)
                             .values(cursor=rows[-1].id))  # fmt: skip
                queued += len(wanted)
        return queued

    def pending(self, webhook_id: int, limit: int = 500) -> builtins.list[Delivery]:
        """The endpoint's pending deliveries, oldest event first."""
        d, o = t.deliveries, t.outbox
        q = (
            select(d.c.id, d.c.webhook_id, d.c.outbox_id, d.c.content_key, d.c.attempts,
                   d.c.next_at, o.c.payload)
            .join(o, o.c.id == d.c.outbox_id)
            .where(d.c.webhook_id == webhook_id, d.c.status == "pending")
            .order_by(d.c.outbox_id).limit(limit)
        )  # fmt: skip
        with self.engine.connect() as conn:
            return [Delivery(*r) for r in conn.execute(q)]

    def delivered(self, delivery_ids: builtins.list[int], now: float) -> None:
        """Mark deliveries done, in one transaction."""
        if not delivery_ids:
            return
        d = t.deliveries
        with begin_write(self.engine) as conn:
            done = {"status": "delivered", "delivered_at": now, "last_error": None}
            conn.execute(update(d).where(d.c.id.in_(delivery_ids)).values(**done))

    def failed(self, delivery: Delivery, error: str, next_at: float | None) -> None:
        """One more failed attempt; ``next_at`` None: that was the last (dead letter)."""
        self._set(delivery.id, attempts=delivery.attempts + 1, last_error=error[:1000],
                  status="dead" if next_at is None else "pending",
                  next_at=delivery.next_at if next_at is None else next_at)  # fmt: skip

    def replay(self, name: str, *, actor: str, now: float | None = None) -> int:
        """Queue an endpoint's dead deliveries again, from a first attempt."""
        hook = self.get(name)
        d = t.deliveries
        with begin_write(self.engine) as conn:
            n = conn.execute(
                update(d).where(d.c.webhook_id == hook.id, d.c.status == "dead")
                .values(status="pending", attempts=0, next_at=time.time() if now is None else now)
            ).rowcount  # fmt: skip
            audit.record(conn, actor, "webhook.replay", name, {"deliveries": n})
        return int(n)

    def deliveries(
        self, *, failed: bool = False, limit: int = 1000
    ) -> builtins.list[dict[str, Any]]:
        """Deliveries, newest first; ``failed``: the dead and those that failed at least once."""
        d, w, o = t.deliveries, t.webhooks, t.outbox
        q = (
            select(d, w.c.name, o.c.event_id, o.c.kind)
            .join(w, w.c.id == d.c.webhook_id).join(o, o.c.id == d.c.outbox_id)
            .order_by(d.c.id.desc()).limit(limit)
        )  # fmt: skip
        if failed:
            q = q.where((d.c.status == "dead") | (d.c.attempts > 0))
        with self.engine.connect() as conn:
            return [
                {"webhook": r.name, "event_id": r.event_id, "type": r.kind, "status": r.status,
                 "attempts": r.attempts, "next_at": r.next_at, "last_error": r.last_error,
                 "delivered_at": r.delivered_at}
                for r in conn.execute(q)
            ]  # fmt: skip

    def counts(self) -> dict[str, int]:
        d = t.deliveries
        with self.engine.connect() as conn:
            rows = conn.execute(select(d.c.status, func.count()).group_by(d.c.status))
            return {status: int(n) for status, n in rows}

    def purge(self, before: datetime, *, batch: int = PURGE_BATCH) -> int:
        """Delete outbox events made before ``before`` with their deliveries, once nothing
        is left to do for them: every endpoint has fanned them out and none of their
        deliveries is pending (dead ones go with them: replay before their retention ends).
        Returns how many events."""
        o, d = t.outbox, t.deliveries
        with self.engine.connect() as conn:
            fanned = conn.scalar(select(func.min(t.webhooks.c.cursor)))
        done = o.c.created_at < before
        if fanned is not None:
            done = done & (o.c.id <= fanned)
        pending = select(d.c.outbox_id).where(d.c.status == "pending")
        old = select(o.c.id).where(done, o.c.id.not_in(pending)).order_by(o.c.id).limit(batch)
        total = 0
        while True:
            with begin_write(self.engine) as conn:
                ids = list(conn.scalars(old))
                if ids:
                    conn.execute(delete(d).where(d.c.outbox_id.in_(ids)))
                    conn.execute(delete(o).where(o.c.id.in_(ids)))
            total += len(ids)
            if len(ids) < batch:
                return total

    def claim(self, owner: str, seconds: float) -> bool:
        """The delivery lease: one deliverer at a time across every replica."""
        return claim_lease(self.engine, LEASE, owner, seconds)

    def _set(self, delivery_id: int, **values: Any) -> None:
        with begin_write(self.engine) as conn:
            conn.execute(
                update(t.deliveries).where(t.deliveries.c.id == delivery_id).values(**values)
            )
