"""Verdicts, rules and policies: what to do with content once its matches are known.

No I/O here: a policy is a frozen value, parsed by :mod:`hashguard.policy.parse`, stored
versioned by the store, applied by :func:`hashguard.policy.decide.decide`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Literal

Mode = Literal["live", "shadow", "off"]
MODES: tuple[Mode, ...] = ("live", "shadow", "off")


class Verdict(enum.IntEnum):
    """Ordered by strictness: of all the rules that fire, the strictest verdict wins."""

    ALLOW = 0
    REVIEW = 1  # hold for a person
    BLOCK = 2
    REPORT = 3  # block, and prepare a report to the authorities

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def of(cls, label: str) -> Verdict:
        return cls[label.upper()]


@dataclass(frozen=True)
class Rule:
    """Fires on a match whose bank, entry category, signal type, distance and surface all
    fit; a field left out (None) fits anything."""

    name: str
    verdict: Verdict
    mode: Mode = "live"
    banks: frozenset[str] | None = None
    categories: frozenset[str] | None = None
    signal_types: frozenset[str] | None = None
    min_distance: int = 0
    max_distance: int | None = None
    surfaces: frozenset[str] | None = None
    # The flood guard: actions this rule may take per hour and per day; beyond, its
    # verdict is lowered to ``review`` and an alert raised (one bad entry must not block
    # millions of items).
    cap_per_hour: int | None = None
    cap_per_day: int | None = None

    @property
    def capped(self) -> bool:
        return self.cap_per_hour is not None or self.cap_per_day is not None

    def fits(
        self, bank: str, category: str | None, signal_type: str, distance: int,
        surface: str | None,
    ) -> bool:  # fmt: skip
        return (
            (self.banks is None or bank in self.banks)
            and (self.categories is None or category in self.categories)
            and (self.signal_types is None or signal_type in self.signal_types)
            and self.min_distance <= distance
            and (self.max_distance is None or distance <= self.max_distance)
            and (self.surfaces is None or surface in self.surfaces)
        )

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "verdict": self.verdict.label}
        if self.mode != "live":
            out["mode"] = self.mode
        for key in ("banks", "categories", "signal_types", "surfaces"):
            value = getattr(self, key)
            if value is not None:
                out[key] = sorted(value)
        if self.min_distance:
            out["min_distance"] = self.min_distance
        for key in ("max_distance", "cap_per_hour", "cap_per_day"):
            if (value := getattr(self, key)) is not None:
                out[key] = value
        return out


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]
    # Banks of known-benign items: a match in one cancels the other banks' matches for the
    # same content (false-positive control).
    suppress_banks: frozenset[str] = frozenset()
    description: str = ""
    # Keep the content of items held for review (sealed, until decided or their retention
    # ends: hashguard.review.sealing) so reviewers see it; off, only hashes are kept.
    keep_for_review: bool = False
    # What reviewers read on an item's page, per category: (category, text), by category.
    guidance: tuple[tuple[str, str], ...] = ()

    def guidance_for(self, category: str | None) -> str | None:
        return dict(self.guidance).get(category or "", dict(self.guidance).get("*"))

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.description:
            out["description"] = self.description
        if self.suppress_banks:
            out["suppress_banks"] = sorted(self.suppress_banks)
        if self.keep_for_review:
            out["keep_for_review"] = True
        if self.guidance:
            out["guidance"] = dict(self.guidance)
        out["rules"] = [r.as_dict() for r in self.rules]
        return out


@dataclass(frozen=True)
class PolicyRecord:
    """A policy as the store keeps it: the document, not yet parsed (parsing needs the
    signal types, which the store does not know)."""

    version: int
    document: dict[str, Any]
    actor: str
    created_at: str  # ISO 8601


@dataclass(frozen=True)
class StoredPolicy:
    """A policy as the store holds it: version 0 is the built-in default, never stored."""

    version: int
    policy: Policy
    actor: str = "default"
    created_at: str | None = None  # ISO 8601, UTC

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "actor": self.actor,
            "created_at": self.created_at,
            "policy": self.policy.as_dict(),
        }


@dataclass(frozen=True)
class Reason:
    """One rule firing on one match: why a verdict is what it is."""

    rule: str
    verdict: Verdict
    bank: str
    entry: str
    signal_type: str
    distance: int
    mode: Mode = "live"
    capped: bool = False  # the rule's flood guard lowered its verdict to review

    def as_dict(self, *, distance: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "verdict": self.verdict.label,
            "bank": self.bank,
            "entry": self.entry,
            "signal_type": self.signal_type,
        }
        if distance:
            out["distance"] = self.distance
        if self.mode != "live":
            out["mode"] = self.mode
        if self.capped:
            out["capped"] = True
        return out


@dataclass(frozen=True)
class Suppressed:
    """A match in a suppress bank, and how many other matches it cancelled."""

    bank: str
    entry: str
    cancelled: int


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reasons: tuple[Reason, ...] = ()
    # What the verdict would be if the shadow rules were live, when any of them fired.
    shadow: Verdict | None = None
    shadow_reasons: tuple[Reason, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()
    policy_version: int = 0
    capped: tuple[str, ...] = field(default=())  # rules whose flood guard acted

    def as_dict(self, *, distance: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "verdict": self.verdict.label,
            "reasons": [r.as_dict(distance=distance) for r in self.reasons],
        }
        if self.shadow is not None:
            out["shadow"] = {
                "verdict": self.shadow.label,
                "reasons": [r.as_dict(distance=distance) for r in self.shadow_reasons],
            }
        if self.suppressed:
            out["suppressed"] = [
                {"bank": s.bank, "entry": s.entry, "cancelled": s.cancelled}
                for s in self.suppressed
            ]
        return out
