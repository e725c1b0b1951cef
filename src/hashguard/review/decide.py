"""Decisions on held items and appeals, with what each does beyond the queue:

- **confirm** copies the item's hashes into the platform's own bank (:data:`OWN_BANK`), so
  the next upload of it matches there, and retroactive matching finds its earlier copies;
- **false positive** copies them into the suppress bank (:data:`SUPPRESS_BANK`), whose
  matches cancel the others' for the same content;
- **escalate** hands the item to the leads' queue;
- **undo** (a lead, within ``undo_window``) puts a decided item back in the queue and
  retracts what its decision added;
- an appeal **overturned** puts the item's hashes in the suppress bank and retracts a
  confirmation's entry; **upheld** changes nothing.

Each emits a webhook event and is audited (in store/review_table.py, one transaction with
the status change). Kept content is deleted once its item is decided, except a
confirmed report item's, which its authority report needs (hashguard.reports).
"""

from __future__ import annotations

import logging
from typing import Any

from hashguard.access.accounts import User
from hashguard.errors import Conflict, Forbidden, InvalidValue, NotFound
from hashguard.lists.rows import ListRow
from hashguard.review.model import (
    BANKED_TYPES,
    Appeal,
    Item,
    check_classification,
    check_note,
)
from hashguard.review.options import ReviewOptions
from hashguard.store.store import Store

log = logging.getLogger(__name__)
APPEALABLE = ("block", "report")  # verdicts that restricted something
TWINS = 10_000  # sightings of one file looked at for its other held items


def actor(user: User) -> str:
    return f"user:{user.name}"


class Decisions:
    def __init__(self, store: Store, options: ReviewOptions | None = None) -> None:
        self.store = store
        self.options = options or ReviewOptions()

    def match_record(self, match_id: int) -> dict[str, Any]:
        rows = self.store.match_log.records(after=match_id - 1, limit=1)
        if not rows or rows[0]["id"] != match_id:
            raise NotFound(f"no match-log record {match_id} (purged, or never made)")
        return rows[0]

    # Held items

    def confirm(
        self,
        user: User,
        item_id: int,
        *,
        now: float,
        classification: str | None,
        category: str | None = None,
        note: str | None = None,
    ) -> Item:
        industry = check_classification(classification)
        note = check_note(note)
        item = self._decidable(user, item_id, now)
        category = (category or "").strip()[:200] or item.category
        entry = self._bank(
            self.options.own_bank,
            f"review-{item.id}",
            item,
            user,
            category=category,
            note=industry,
            action="review.confirm",
        )
        return self._settle(
            user,
            item,
            now,
            "confirm",
            "confirmed",
            industry,
            note,
            entry,
            {"bank": self.options.own_bank, "entry": entry},
        )

    def false_positive(self, user: User, item_id: int, *, now: float, note: str | None) -> Item:
        text = check_note(note, required=True)
        item = self._decidable(user, item_id, now)
        entry = self._bank(
            self.options.suppress_bank,
            f"review-{item.id}",
            item,
            user,
            category=None,
            note=text,
            action="review.false_positive",
        )
        return self._settle(
            user,
            item,
            now,
            "false_positive",
            "false_positive",
            None,
            text,
            entry,
            {"bank": self.options.suppress_bank, "entry": entry},
        )

    def escalate(self, user: User, item_id: int, *, now: float, note: str | None) -> Item:
        text = check_note(note)
        item = self._decidable(user, item_id, now)
        if item.status == "escalated":
            raise Conflict(f"item {item_id} is escalated already")
        return self.store.reviews.decide(
            item,
            user.id,
            actor=actor(user),
            action="escalate",
            status="escalated",
            now=now,
            note=text,
            any_claim=user.may("lead"),
        )

    def undo(self, user: User, item_id: int, *, now: float, note: str | None = None) -> Item:
        if not user.may("lead"):
            raise Forbidden("only a lead may undo a decision")
        item = self.store.reviews.get(item_id)
        undone = self.store.reviews.undo(
            item,
            user.id,
            actor=actor(user),
            now=now,
            window=self.options.undo_window,
            note=check_note(note),
        )
        if item.entry:
            self._retract(item.entry, user)
        return undone

    def _decidable(self, user: User, item_id: int, now: float) -> Item:
        item = self.store.reviews.get(item_id)
        if not item.undecided:
            raise Conflict(f"item {item_id} is decided already ({item.status})")
        if item.status == "escalated" and not user.may("lead"):
            raise Forbidden(f"item {item_id} is escalated: a lead decides it")
        if not user.may("lead") and not item.claimed(user.id, now):
            if item.held_by_other(user.id, now):
                raise Conflict(f"item {item_id} is claimed by another reviewer")
            raise Conflict(f"item {item_id} is not claimed by you (or your claim expired)")
        return item

    def _settle(
        self,
        user: User,
        item: Item,
        now: float,
        action: str,
        status: str,
        classification: str | None,
        note: str | None,
        entry: str | None,
        body: dict[str, Any],
    ) -> Item:
        try:
            done = self.store.reviews.decide(
                item,
                user.id,
                actor=actor(user),
                action=action,
                status=status,
                now=now,
                classification=classification,
                note=note,
                entry=entry,
                any_claim=user.may("lead"),
                body=body,
            )
        except Conflict:
            if entry:  # decided by someone else meanwhile: take back what this call added
                self._retract(entry, user)
            raise
        if not _reported(done):
            self.store.kept.delete(item.content_key)
        self._settle_twins(user, done, now, action, status, classification, body)
        return done

    def _settle_twins(
        self, user: User, item: Item, now: float, action: str, status: str,
        classification: str | None, body: dict[str, Any],
    ) -> None:  # fmt: skip
        """Decide the same way the other undecided items of the very same content (equal
        SHA-256: the same file under other content ids), so that no one reviews it twice.
        Escalated ones only when a lead decides."""
        sha = self.match_record(item.match_id)["signals"].get("sha256")
        if not isinstance(sha, str):
            return
        seen = self.store.seen_log.records(column="sha256", value=sha, limit=TWINS)
        keys = sorted({r["content_key"] for r in seen} - {item.content_key})
        statuses = ("open", "escalated") if user.may("lead") else ("open",)
        for key in keys:
            for twin in self.store.reviews.by_content(key):
                if twin.status not in statuses:
                    continue
                try:
                    self.store.reviews.decide(
                        twin, user.id, actor=actor(user), action=action, status=status,
                        now=now, classification=classification,
                        note=f"the same file as item {item.id}", any_claim=True,
                        body={**body, "same_as": item.id},
                    )  # fmt: skip
                except Conflict:
                    continue  # decided meanwhile
                if not _reported(self.store.reviews.get(twin.id)):
                    self.store.kept.delete(twin.content_key)

    def _bank(
        self,
        bank: str,
        entry_id: str,
        item: Item,
        user: User,
        *,
        category: str | None,
        note: str | None,
        action: str,
    ) -> str | None:
        """Add the item's hashes to ``bank`` as entry ``entry_id``; its "bank/entry", or
        None if the item has no hashes to bank (a text message)."""
        signals = self.match_record(item.match_id)["signals"]
        rows = [
            ListRow(
                line=n,
                action="add",
                id=entry_id,
                signal_type=kind,
                value=value,
                category=category,
                note=note,
            )
            for n, (kind, value) in enumerate(_values(signals), 1)
        ]
        if not rows:
            return None
        try:
            self.store.bank(bank)
        except NotFound:
            self.store.create_bank(bank, actor=actor(user))
        self.store.add_entry(bank, rows, actor=actor(user), action=action)
        return f"{bank}/{entry_id}"

    def _retract(self, entry: str, user: User) -> None:
        bank, _, entry_id = entry.partition("/")
        try:
            self.store.retract_entry(bank, entry_id, actor=actor(user))
        except NotFound:
            log.warning("entry %s to retract is gone", entry)

    # Appeals

    def file_appeal(
        self, match_id: int, *, requester: str, reason: str | None, now: float
    ) -> Appeal:
        record = self.match_record(match_id)
        if record["verdict"] not in APPEALABLE:
            raise InvalidValue(
                f"match {match_id} was {record['verdict']!r}, not a block: "
                "only a restriction can be appealed"
            )
        return self.store.reviews.appeal(
            match_id, record["content_key"], requester=requester, reason=check_note(reason), now=now
        )

    def decide_appeal(
        self, user: User, appeal_id: int, outcome: str, *, now: float, note: str | None
    ) -> Appeal:
        if not user.may("lead"):
            raise Forbidden("only a lead decides appeals")
        if outcome not in ("upheld", "overturned"):
            raise InvalidValue(f"an appeal is upheld or overturned, not {outcome!r}")
        appeal = self.store.reviews.get_appeal(appeal_id)
        if appeal.status != "open":
            raise Conflict(f"appeal {appeal_id} is decided already ({appeal.status})")
        text = check_note(note, required=outcome == "overturned")
        entry = None
        if outcome == "overturned":
            signals = self.match_record(appeal.match_id)["signals"]
            rows = [
                ListRow(
                    line=n,
                    action="add",
                    id=f"appeal-{appeal.id}",
                    signal_type=k,
                    value=v,
                    note=text,
                )
                for n, (k, v) in enumerate(_values(signals), 1)
            ]
            if rows:
                bank = self.options.suppress_bank
                try:
                    self.store.bank(bank)
                except NotFound:
                    self.store.create_bank(bank, actor=actor(user))
                self.store.add_entry(bank, rows, actor=actor(user), action="appeal.overturn")
                entry = f"{bank}/appeal-{appeal.id}"
        try:
            done = self.store.reviews.decide_appeal(
                appeal, user.id, actor=actor(user), outcome=outcome, now=now, note=text, entry=entry
            )
        except Conflict:
            if entry:
                self._retract(entry, user)
            raise
        if outcome == "overturned":  # confirmations that restricted it no longer stand
            record = self.match_record(appeal.match_id)
            for m in record["matches"]:
                if m.get("bank") == self.options.own_bank:
                    self._retract(f"{m['bank']}/{m['entry']}", user)
        return done


def _reported(item: Item) -> bool:
    """A confirmed report item's content stays kept: its report uploads it to NCMEC, and
    submitting preserves it (reports/); otherwise it ends at ``keep_days``."""
    return item.status == "confirmed" and item.verdict == "report"


def _values(signals: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for kind in BANKED_TYPES:
        value = signals.get(kind)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v:
                out.append((kind, v))
    return out
