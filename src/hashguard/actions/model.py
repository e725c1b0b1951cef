"""A checked item whose verdict is kept, and the event an acted verdict puts in the outbox.
Hashes and pseudonymous ids only: never the content, never a message's text."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from hashguard.policy.model import Decision, Verdict

EVENT_VERSION = 1  # of the event payload's shape
# What the match log keeps of a match: category and severity order and filter the review
# queue (hashguard.review.model).
_KEPT_MATCH = ("bank", "entry", "signal_type", "distance", "category", "severity")


@dataclass(frozen=True)
class Checked:
    """What the match log records of one item: its verdict, why, and on what."""

    verdict: Verdict
    policy_version: int
    list_seq: int
    content_key: str  # what groups an item's records and orders its events
    matches: tuple[dict[str, Any], ...]  # bank, entry, signal_type, distance, category, ...
    reasons: tuple[dict[str, Any], ...]
    signals: dict[str, Any] = field(default_factory=dict)  # the item's hashes
    context: dict[str, str] = field(default_factory=dict)
    shadow: Verdict | None = None
    retroactive: bool = False
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))  # the idempotency key

    @property
    def acted(self) -> bool:
        """Whether it is acted on (an outbox event), not only recorded (a shadow verdict)."""
        return self.verdict > Verdict.ALLOW

    def event(self, match_id: int, at: str) -> dict[str, Any]:
        """The outbox event: what a webhook receives."""
        return {
            "event_id": self.event_id,
            "type": f"verdict.{self.verdict.label}",
            "version": EVENT_VERSION,
            "created_at": at,
            "match_id": match_id,
            "verdict": self.verdict.label,
            "retroactive": self.retroactive,
            "reasons": list(self.reasons),
            "context": dict(self.context),
            "content_key": self.content_key,
            "policy_version": self.policy_version,
            "list_seq": self.list_seq,
        }


@dataclass(frozen=True)
class Logged:
    """Where a kept verdict went: its match-log row, and its outbox event if acted on."""

    match_id: int
    event_id: str | None


def checked(
    decision: Decision, matches: list[dict[str, Any]], *, list_seq: int, content_key: str,
    signals: dict[str, Any] | None = None, context: dict[str, str] | None = None,
) -> Checked | None:  # fmt: skip
    """The record to keep of a decision: None for an allow that no shadow rule contested
    (those go to the seen log, not here)."""
    if decision.verdict == Verdict.ALLOW and decision.shadow is None:
        return None
    return Checked(
        verdict=decision.verdict,
        policy_version=decision.policy_version,
        list_seq=list_seq,
        content_key=content_key,
        matches=tuple({k: m[k] for k in _KEPT_MATCH if k in m} for m in matches),
        reasons=tuple(r.as_dict() for r in decision.reasons),
        signals=dict(signals or {}),
        context=dict(context or {}),
        shadow=decision.shadow,
    )


def content_key(context: dict[str, str], signals: dict[str, Any], text: str | None = None) -> str:
    """The platform's content_id when it gives one; else the content's SHA-256 (of the
    message, for text); else its first signal."""
    if "content_id" in context:
        return f"id:{context['content_id']}"
    if text is not None:
        return f"text-sha256:{hashlib.sha256(text.encode()).hexdigest()}"
    if isinstance(signals.get("sha256"), str):
        return f"sha256:{signals['sha256']}"
    for name, value in sorted(signals.items()):
        if isinstance(value, str):
            return f"{name}:{value}"
        if isinstance(value, list) and value:
            return f"{name}:{value[0]}"
    return "unknown"
