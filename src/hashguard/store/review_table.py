"""Held items, decisions, appeals and reveals in the SQL store.

An item is held in the transaction that writes its match-log row (:func:`hold`), so there
is no held verdict without its queue item. Claims are conditional updates: a claim is
taken only where nobody else's is live, so two reviewers never hold one item, whatever
the database. Each decision is one transaction: the item's new status, its history row,
its audit row and its outbox event (the webhook's), or none of them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from hashguard.actions.model import EVENT_VERSION, Checked
from hashguard.errors import Conflict, NotFound
from hashguard.review.model import REPORT_FIRST, UNDECIDED, Appeal, Item, priority
from hashguard.store import audit, report_table
from hashguard.store import tables as t
from hashguard.store.database import begin_write

HELD = ("review", "report")  # the verdicts that put an item in the queue
CANDIDATES = 20  # items looked at per claim attempt
COUNT_CAP = 10_000  # the queue's size is shown as "10000+" beyond


# Built once: compiling a statement costs about as much as running it, and these run for
# every held verdict inside the match log's write.
_MORE = (
    update(t.reviews)
    .where(t.reviews.c.content_key == bindparam("key"), t.reviews.c.status.in_(UNDECIDED))
    .values(sightings=t.reviews.c.sightings + 1)
)
# Held again with a report verdict: the item is one to report now, and queued as such.
_STRICTER = (
    update(t.reviews)
    .where(
        t.reviews.c.content_key == bindparam("key"),
        t.reviews.c.status.in_(UNDECIDED),
        t.reviews.c.verdict != "report",
    )
    .values(verdict="report", priority=t.reviews.c.priority - REPORT_FIRST)
)
# The same content from the same uploader matched again once confirmed (a retroactive pass
# over the confirmed content itself, say): one more sighting of the decided item, not a new
# one to review. From another uploader it is held anew: that user is reported too.
_DECIDED = (
    update(t.reviews)
    .where(
        t.reviews.c.content_key == bindparam("key"),
        t.reviews.c.status == "confirmed",
        t.reviews.c.match_id.in_(
            select(t.match_log.c.id).where(
                t.match_log.c.id == t.reviews.c.match_id,
                t.match_log.c.uploader_id.is_not_distinct_from(bindparam("uploader")),
            )
        ),
    )
    .values(sightings=t.reviews.c.sightings + 1)
)
_HOLD = insert(t.reviews)


def hold(conn: Connection, item: Checked, match_id: int) -> None:
    """Queue ``item`` (a review or report verdict), or count one more sighting of it."""
    key = item.content_key[:300]
    if conn.execute(_MORE, {"key": key}).rowcount:
        if item.verdict.label == "report":
            conn.execute(_STRICTER, {"key": key})
        return
    if conn.execute(_DECIDED, {"key": key, "uploader": item.context.get("uploader_id")}).rowcount:
        return
    first = item.matches[0] if item.matches else {}
    row = {
        "match_id": match_id, "content_key": key, "verdict": item.verdict.label,
        "priority": priority(item.verdict.label, first.get("severity")),
        "bank": first.get("bank"), "category": first.get("category"), "sightings": 1,
        "status": "open",
    }  # fmt: skip
    if conn.dialect.name == "sqlite":  # one writer at a time: nobody can insert it meanwhile
        conn.execute(_HOLD, row)
        return
    try:
        with conn.begin_nested():
            conn.execute(_HOLD, row)
    except IntegrityError:  # held at the same moment by another process: count it there
        conn.execute(_MORE, {"key": key})


def _status(statuses: Sequence[str]) -> Any:
    """An equality for one status: PostgreSQL reads the queue's index in order for ``=``,
    not for ``IN``/``= ANY`` (a sort of every undecided row instead)."""
    r = t.reviews
    return r.c.status == statuses[0] if len(statuses) == 1 else r.c.status.in_(statuses)


def _item(r: Any) -> Item:
    at = r.created_at.isoformat() if isinstance(r.created_at, datetime) else str(r.created_at)
    return Item(
        r.id,
        at,
        r.match_id,
        r.content_key,
        r.verdict,
        r.priority,
        r.bank,
        r.category,
        r.sightings,
        r.status,
        r.claimed_by,
        r.claim_until,
        r.decided_by,
        r.decided_at,
        r.classification,
        r.entry,
    )


def _appeal(r: Any) -> Appeal:
    return Appeal(
        r.id,
        r.created_at,
        r.match_id,
        r.content_key,
        r.requester,
        r.reason,
        r.status,
        r.decided_by,
        r.decided_at,
        r.note,
        r.entry,
    )


def event(kind: str, match_id: int, content_key: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": kind,
        "version": EVENT_VERSION,
        "created_at": datetime.now(UTC).isoformat(),
        "match_id": match_id,
        "content_key": content_key,
        **body,
    }


def emit(conn: Connection, payload: dict[str, Any]) -> None:
    """An outbox event, delivered to the webhooks that want its kind, in order per item."""
    conn.execute(
        insert(t.outbox).values(
            event_id=payload["event_id"],
            match_id=payload["match_id"],
            kind=payload["type"],
            content_key=payload["content_key"][:300],
            payload=json.dumps(payload),
        )
    )


class Reviews:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # Reading

    def get(self, item_id: int) -> Item:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.reviews).where(t.reviews.c.id == item_id)).first()
        if row is None:
            raise NotFound(f"no held item {item_id}")
        return _item(row)

    def queue(
        self,
        statuses: Sequence[str] = ("open",),
        *,
        bank: str | None = None,
        category: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Item]:
        r = t.reviews
        q = select(r).where(_status(statuses))
        if bank:
            q = q.where(r.c.bank == bank)
        if category:
            q = q.where(r.c.category == category)
        q = q.order_by(r.c.priority, r.c.id).limit(limit).offset(offset)
        with self.engine.connect() as conn:
            return [_item(row) for row in conn.execute(q)]

    def by_content(self, content_key: str) -> list[Item]:
        r = t.reviews
        q = select(r).where(r.c.content_key == content_key).order_by(r.c.id)
        with self.engine.connect() as conn:
            return [_item(row) for row in conn.execute(q)]

    def decided(self, *, limit: int = 100) -> list[Item]:
        r = t.reviews
        q = select(r).where(r.c.status.not_in(UNDECIDED)).order_by(r.c.decided_at.desc())
        with self.engine.connect() as conn:
            return [_item(row) for row in conn.execute(q.limit(limit))]

    def counts(self, cap: int = COUNT_CAP) -> dict[str, int]:
        """Undecided items by status, each counted up to ``cap`` (every page shows them:
        a count of a million-item queue would cost every page a scan of it)."""
        r = t.reviews
        out = {}
        with self.engine.connect() as conn:
            for status in UNDECIDED:
                head = select(r.c.id).where(r.c.status == status).limit(cap).subquery()
                out[status] = int(conn.scalar(select(func.count()).select_from(head)) or 0)
        return out

    def facets(self, cap: int = COUNT_CAP) -> dict[str, list[str]]:
        """The banks and categories of the first ``cap`` open items in queue order: the
        queue's filter choices (read from the head, as :meth:`counts` is, so a million
        items do not cost every page a scan)."""
        r = t.reviews
        head = (select(r.c.bank, r.c.category).where(r.c.status == "open")
                .order_by(r.c.priority, r.c.id).limit(cap).subquery())  # fmt: skip
        out: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            for column in ("bank", "category"):
                c = head.c[column]
                q = select(c).where(c.is_not(None)).distinct()
                out[column] = sorted(v for (v,) in conn.execute(q))
        return out

    def history(self, content_key: str, *, limit: int = 100) -> list[dict[str, Any]]:
        d = t.decisions
        q = select(d).where(d.c.content_key == content_key).order_by(d.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [
                {
                    "id": r.id,
                    "at": r.at,
                    "item": r.review_id,
                    "appeal": r.appeal_id,
                    "actor": r.actor,
                    "action": r.action,
                    "classification": r.classification,
                    "note": r.note,
                }
                for r in conn.execute(q)
            ]

    # Claims

    def claim_next(
        self,
        user_id: int,
        *,
        now: float,
        seconds: float,
        statuses: Sequence[str] = ("open",),
        bank: str | None = None,
        category: str | None = None,
        skip: Sequence[int] = (),
    ) -> Item | None:
        """The first item in queue order nobody else holds, now claimed by ``user_id``
        for ``seconds`` (the one it holds already, if any)."""
        r = t.reviews
        mine = select(r.c.id).where(_status(statuses), r.c.claimed_by == user_id,
                                    r.c.claim_until > now)  # fmt: skip
        free = or_(r.c.claimed_by.is_(None), r.c.claim_until <= now)
        q = select(r.c.id).where(_status(statuses), free)
        if bank:
            q = q.where(r.c.bank == bank)
            mine = mine.where(r.c.bank == bank)
        if category:
            q = q.where(r.c.category == category)
            mine = mine.where(r.c.category == category)
        if skip:
            q = q.where(r.c.id.not_in(list(skip)))
            mine = mine.where(r.c.id.not_in(list(skip)))
        with self.engine.connect() as conn:  # the item one holds already, if any
            held = conn.execute(mine.order_by(r.c.id).limit(1)).scalar()
        if held is not None and self._take(held, user_id, now, seconds, statuses):
            return self.get(held)
        # In the queue's order, which the index (status, priority, id) gives as it is.
        q = q.order_by(r.c.priority, r.c.id).limit(CANDIDATES)
        for _ in range(5):  # others may take every candidate between the read and the claim
            with self.engine.connect() as conn:
                ids = [i for (i,) in conn.execute(q)]
            if not ids:
                return None
            for item_id in ids:
                if self._take(item_id, user_id, now, seconds, statuses):
                    return self.get(item_id)
        return None

    def claim(
        self,
        item_id: int,
        user_id: int,
        *,
        now: float,
        seconds: float,
        statuses: Sequence[str] = UNDECIDED,
    ) -> Item:
        """Claim this item (or renew one's claim); :class:`Conflict` if another holds it
        or it is decided."""
        if not self._take(item_id, user_id, now, seconds, statuses):
            item = self.get(item_id)
            if not item.undecided:
                raise Conflict(f"item {item_id} is decided already ({item.status})")
            if item.status not in statuses:
                raise Conflict(f"item {item_id} is {item.status}: for a lead")
            raise Conflict(f"item {item_id} is claimed by another reviewer")
        return self.get(item_id)

    def _take(
        self, item_id: int, user_id: int, now: float, seconds: float, statuses: Sequence[str]
    ) -> bool:
        r = t.reviews
        free = or_(r.c.claimed_by.is_(None), r.c.claim_until <= now, r.c.claimed_by == user_id)
        with begin_write(self.engine) as conn:
            return bool(
                conn.execute(
                    update(r)
                    .where(r.c.id == item_id, r.c.status.in_(statuses), free)
                    .values(claimed_by=user_id, claim_until=now + seconds)
                ).rowcount
            )

    def release(self, item_id: int, user_id: int, *, actor: str, now: float) -> None:
        """Skip: the claim is given up, and the skip is in the item's history."""
        r = t.reviews
        with begin_write(self.engine) as conn:
            done = conn.execute(
                update(r)
                .where(r.c.id == item_id, r.c.claimed_by == user_id)
                .values(claimed_by=None, claim_until=None)
            ).rowcount
            if done:
                key = str(conn.scalar(select(r.c.content_key).where(r.c.id == item_id)))
                self._history(conn, now, item_id, None, key, actor, "skip", None, None)

    # Deciding

    def decide(
        self,
        item: Item,
        user_id: int,
        *,
        actor: str,
        action: str,
        status: str,
        now: float,
        classification: str | None = None,
        note: str | None = None,
        entry: str | None = None,
        any_claim: bool = False,
        body: dict[str, Any] | None = None,
    ) -> Item:
        """Move ``item`` to ``status`` if it is still undecided and (unless ``any_claim``,
        a lead's) claimed by ``user_id``; :class:`Conflict` otherwise, and nothing written."""
        r = t.reviews
        where = [r.c.id == item.id, r.c.status.in_(UNDECIDED)]
        if not any_claim:
            where += [r.c.claimed_by == user_id, r.c.claim_until > now]
        undecided = status in UNDECIDED
        values: dict[str, Any] = {"status": status, "claimed_by": None, "claim_until": None}
        if not undecided:
            values.update(
                decided_by=user_id, decided_at=now, classification=classification, entry=entry
            )
        with begin_write(self.engine) as conn:
            if not conn.execute(update(r).where(*where).values(**values)).rowcount:
                raise Conflict(self._why_not(conn, item.id, user_id, now))
            self._history(
                conn, now, item.id, None, item.content_key, actor, action, classification, note
            )
            report = None
            if status == "confirmed" and item.verdict == "report":  # for NCMEC (reports/)
                viewed = conn.execute(
                    select(t.reveals.c.id).where(t.reveals.c.review_id == item.id).limit(1)
                ).first()
                report = report_table.draft(conn, item, now, classification, viewed is not None)
            audit.record(
                conn,
                actor,
                f"review.{action}",
                str(item.id),
                {"classification": classification, "note": note, "entry": entry},
            )
            emit(
                conn,
                event(
                    f"decision.{action}",
                    item.match_id,
                    item.content_key,
                    {
                        "item": item.id,
                        "decision": action,
                        "classification": classification,
                        "category": item.category,
                        "by": actor.removeprefix("user:"),
                        **({"report": report} if report is not None else {}),
                        **(body or {}),
                    },
                ),
            )
        return self.get(item.id)

    def undo(
        self, item: Item, user_id: int, *, actor: str, now: float, window: float, note: str | None
    ) -> Item:
        """Back to the queue, if decided less than ``window`` seconds ago."""
        r = t.reviews
        with begin_write(self.engine) as conn:
            done = conn.execute(
                update(r)
                .where(
                    r.c.id == item.id, r.c.status.not_in(UNDECIDED), r.c.decided_at > now - window
                )
                .values(
                    status="open",
                    decided_by=None,
                    decided_at=None,
                    classification=None,
                    entry=None,
                    claimed_by=None,
                    claim_until=None,
                )
            ).rowcount
            if not done:
                current = conn.execute(select(r).where(r.c.id == item.id)).first()
                if current is None or current.status in UNDECIDED:
                    raise Conflict(f"item {item.id} is not decided: nothing to undo")
                raise Conflict(
                    f"item {item.id} was decided more than {window / 3600:g} h ago: "
                    "too late to undo; decide it anew by an appeal or a list change"
                )
            report = report_table.withdraw(conn, item, now)  # refused once it is sent
            self._history(conn, now, item.id, None, item.content_key, actor, "undo", None, note)
            audit.record(
                conn,
                actor,
                "review.undo",
                str(item.id),
                {"was": item.status, "entry": item.entry, "note": note, "report": report},
            )
            emit(
                conn,
                event(
                    "decision.undone",
                    item.match_id,
                    item.content_key,
                    {
                        "item": item.id,
                        "decision": "undo",
                        "was": item.status,
                        "by": actor.removeprefix("user:"),
                    },
                ),
            )
        return self.get(item.id)

    def _why_not(self, conn: Connection, item_id: int, user_id: int, now: float) -> str:
        row = conn.execute(select(t.reviews).where(t.reviews.c.id == item_id)).first()
        if row is None:
            return f"no held item {item_id}"
        if row.status not in UNDECIDED:
            return f"item {item_id} is decided already ({row.status})"
        if row.claimed_by not in (None, user_id) and (row.claim_until or 0) > now:
            return f"item {item_id} is claimed by another reviewer"
        return f"item {item_id} is not claimed by you (or your claim expired): open it again"

    def _history(
        self,
        conn: Connection,
        now: float,
        review_id: int | None,
        appeal_id: int | None,
        key: str,
        actor: str,
        action: str,
        classification: str | None,
        note: str | None,
    ) -> None:
        conn.execute(
            insert(t.decisions).values(
                at=now,
                review_id=review_id,
                appeal_id=appeal_id,
                content_key=key[:300],
                actor=actor[:128],
                action=action,
                classification=classification,
                note=note,
            )
        )

    # Appeals

    def appeal(
        self, match_id: int, content_key: str, *, requester: str, reason: str | None, now: float
    ) -> Appeal:
        try:
            with begin_write(self.engine) as conn:
                appeal_id = conn.execute(
                    insert(t.appeals)
                    .values(
                        created_at=now,
                        match_id=match_id,
                        content_key=content_key[:300],
                        requester=requester[:128],
                        reason=reason,
                        status="open",
                    )
                    .returning(t.appeals.c.id)
                ).scalar_one()
                self._history(
                    conn, now, None, appeal_id, content_key, requester, "appeal", None, reason
                )
                audit.record(conn, requester, "appeal.file", str(appeal_id), {"match_id": match_id})
        except IntegrityError:
            raise Conflict(f"match {match_id} was appealed already") from None
        return self.get_appeal(appeal_id)

    def get_appeal(self, appeal_id: int) -> Appeal:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.appeals).where(t.appeals.c.id == appeal_id)).first()
        if row is None:
            raise NotFound(f"no appeal {appeal_id}")
        return _appeal(row)

    def appeals(self, status: str | None = "open", *, limit: int = 100) -> list[Appeal]:
        a = t.appeals
        q = select(a).order_by(a.c.id).limit(limit)
        if status:
            q = q.where(a.c.status == status)
        with self.engine.connect() as conn:
            return [_appeal(r) for r in conn.execute(q)]

    def appeal_counts(self) -> dict[str, int]:
        a = t.appeals
        with self.engine.connect() as conn:
            return dict(conn.execute(select(a.c.status, func.count()).group_by(a.c.status)).all())

    def decide_appeal(
        self,
        appeal: Appeal,
        user_id: int,
        *,
        actor: str,
        outcome: str,
        now: float,
        note: str | None,
        entry: str | None = None,
    ) -> Appeal:
        a = t.appeals
        with begin_write(self.engine) as conn:
            done = conn.execute(
                update(a)
                .where(a.c.id == appeal.id, a.c.status == "open")
                .values(status=outcome, decided_by=user_id, decided_at=now, note=note, entry=entry)
            ).rowcount
            if not done:
                raise Conflict(f"appeal {appeal.id} is decided already")
            self._history(
                conn,
                now,
                None,
                appeal.id,
                appeal.content_key,
                actor,
                f"appeal.{outcome}",
                None,
                note,
            )
            audit.record(conn, actor, f"appeal.{outcome}", str(appeal.id), {"note": note})
            emit(
                conn,
                event(
                    f"appeal.{outcome}",
                    appeal.match_id,
                    appeal.content_key,
                    {
                        "appeal": appeal.id,
                        "outcome": outcome,
                        "by": actor.removeprefix("user:"),
                    },
                ),
            )
        return self.get_appeal(appeal.id)

    # Exposure

    def reveal(self, user_id: int, item_id: int, *, actor: str, now: float) -> None:
        with begin_write(self.engine) as conn:
            conn.execute(insert(t.reveals).values(user_id=user_id, review_id=item_id, at=now))
            audit.record(conn, actor, "review.reveal", str(item_id), {})

    def revealed(self, user_id: int, item_id: int, since: float) -> bool:
        v = t.reveals
        q = select(v.c.id).where(v.c.user_id == user_id, v.c.review_id == item_id, v.c.at >= since)
        with self.engine.connect() as conn:
            return conn.execute(q.limit(1)).first() is not None

    def reveals_since(self, since: float, user_id: int | None = None) -> dict[int, int]:
        """Reveals per user since ``since`` (unix time)."""
        v = t.reveals
        q = select(v.c.user_id, func.count()).where(v.c.at >= since).group_by(v.c.user_id)
        if user_id is not None:
            q = q.where(v.c.user_id == user_id)
        with self.engine.connect() as conn:
            return dict(conn.execute(q).all())
