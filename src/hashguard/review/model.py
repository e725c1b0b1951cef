"""Held items and what may be decided on them: statuses, classifications, the queue's order
and the webhook events decisions emit. No I/O here (the table is store/review_table.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hashguard.errors import InvalidValue

# What a decision leaves an item as. "open" and "escalated" are undecided (in a queue).
STATUSES = ("open", "escalated", "confirmed", "false_positive")
UNDECIDED = ("open", "escalated")
# NCMEC's industry classification (the CyberTipline's "industry categorization"): A =
# prepubescent minor, B = pubescent minor; 1 = sex act, 2 = lascivious exhibition.
INDUSTRY = ("A1", "A2", "B1", "B2")
# The queue's order: report verdicts before review ones, then by the entry's severity as
# lists spell it (unknown or missing: last), then oldest first.
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
OWN_BANK = "confirmed"  # where confirmed items' signals go
SUPPRESS_BANK = "false-positives"  # where false positives' go: a suppress bank
# The signal types a decision copies into a bank (text matches have none: the message is
# never kept, only its digest).
BANKED_TYPES = ("md5", "sha1", "sha256", "pdq", "vpdq", "photodna")


REPORT_FIRST = 10  # what a report verdict takes off an item's priority


def priority(verdict: str, severity: str | None) -> int:
    """Lower first (see the module's order)."""
    rank = SEVERITY_RANK.get((severity or "").strip().lower(), len(SEVERITY_RANK))
    return (0 if verdict == "report" else REPORT_FIRST) + rank


@dataclass(frozen=True)
class Item:
    """A held item: the content that was held, however often (``sightings``)."""

    id: int
    created_at: str  # ISO 8601
    match_id: int
    content_key: str
    verdict: str
    priority: int
    bank: str | None
    category: str | None
    sightings: int
    status: str
    claimed_by: int | None = None
    claim_until: float | None = None
    decided_by: int | None = None
    decided_at: float | None = None
    classification: str | None = None
    entry: str | None = None

    @property
    def undecided(self) -> bool:
        return self.status in UNDECIDED

    def claimed(self, user_id: int, now: float) -> bool:
        return self.claimed_by == user_id and (self.claim_until or 0) > now

    def held_by_other(self, user_id: int, now: float) -> bool:
        return (self.claimed_by not in (None, user_id)) and (self.claim_until or 0) > now

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": self.created_at,
            "match_id": self.match_id,
            "content_key": self.content_key,
            "verdict": self.verdict,
            "bank": self.bank,
            "category": self.category,
            "sightings": self.sightings,
            "status": self.status,
            "classification": self.classification,
        }


@dataclass(frozen=True)
class Appeal:
    id: int
    created_at: float
    match_id: int
    content_key: str
    requester: str
    reason: str | None
    status: str  # open, upheld, overturned
    decided_by: int | None = None
    decided_at: float | None = None
    note: str | None = None
    entry: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "match_id": self.match_id,
            "content_key": self.content_key,
            "status": self.status,
            "reason": self.reason,
            "note": self.note,
        }


def check_classification(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if value not in INDUSTRY:
        raise InvalidValue(f"industry classification {value!r}: one of {', '.join(INDUSTRY)}")
    return value


def check_note(note: str | None, *, required: bool = False) -> str | None:
    note = (note or "").strip() or None
    if required and note is None:
        raise InvalidValue("a note is needed: say why")
    if note is not None and len(note) > 2000:
        raise InvalidValue("a note has at most 2000 characters")
    return note
