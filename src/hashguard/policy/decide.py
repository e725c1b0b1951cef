"""The policy step: matches + context -> a verdict with its reasons. Pure, apart from the
flood guard it is given (which counts the actions of capped rules)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from hashguard.policy.model import Decision, Policy, Reason, Rule, Suppressed, Verdict

if TYPE_CHECKING:
    from hashguard.engine import Match

HOUR = 3600
DAY = 86400


class FloodGuard(Protocol):
    def take(self, rule: Rule) -> bool:
        """Count one action of ``rule`` if its caps allow another in the current hour and
        day (fixed windows, UTC); False, counting nothing, if not."""
        ...


class MemoryFloodGuard:
    """Counts in this process: for one process, and for tests."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, int, int], int] = {}

    def take(self, rule: Rule) -> bool:
        now = int(self._clock())
        caps = ((HOUR, rule.cap_per_hour), (DAY, rule.cap_per_day))
        keys = [((rule.name, w, now // w), cap) for w, cap in caps if cap is not None]
        with self._lock:
            if any(self._counts.get(key, 0) >= cap for key, cap in keys):
                return False
            for key, _ in keys:
                self._counts[key] = self._counts.get(key, 0) + 1
            if len(self._counts) > 4 * len(keys) + 1000:  # drop windows long past
                self._counts = {k: n for k, n in self._counts.items() if k[2] >= now // k[1]}
        return True


def decide(
    policy: Policy,
    matches: Sequence[Match],
    *,
    surface: str | None = None,
    version: int = 0,
    guard: FloodGuard | None = None,
) -> Decision:
    """The strictest verdict of the live rules that fire on ``matches``; ``allow`` when none
    does. A match in a suppress bank cancels every other bank's match first. Shadow rules
    are evaluated alike and reported apart, never acted on. A capped rule past its cap
    gives ``review`` instead of its verdict (counted once per decision, not per match)."""
    if not matches:
        return Decision(Verdict.ALLOW, policy_version=version)
    if policy.suppress_banks:
        benign = [m for m in matches if m.bank in policy.suppress_banks]
        if benign:
            cancelled = len(matches) - len(benign)
            return Decision(
                Verdict.ALLOW,
                suppressed=tuple(Suppressed(m.bank, m.entry, cancelled) for m in benign),
                policy_version=version,
            )
    fired: dict[str, list[Reason]] = {}
    rules: dict[str, Rule] = {}
    for m in matches:
        category = m.metadata.get("category")
        for rule in policy.rules:
            if rule.mode == "off" or not rule.fits(
                m.bank, category, m.signal_type, m.distance, surface
            ):
                continue
            rules[rule.name] = rule
            fired.setdefault(rule.name, []).append(
                Reason(rule.name, rule.verdict, m.bank, m.entry, m.signal_type, m.distance,
                       rule.mode)
            )  # fmt: skip
    live: list[Reason] = []
    shadow: list[Reason] = []
    capped: list[str] = []
    for name, reasons in fired.items():
        rule = rules[name]
        if rule.mode == "shadow":
            shadow.extend(reasons)
            continue
        acts = rule.capped and rule.verdict > Verdict.REVIEW
        if acts and guard is not None and not guard.take(rule):
            capped.append(name)
            reasons = [_lowered(r) for r in reasons]
        live.extend(reasons)
    verdict = max((r.verdict for r in live), default=Verdict.ALLOW)
    return Decision(
        verdict,
        tuple(sorted(live, key=_order)),
        shadow=max(verdict, *(r.verdict for r in shadow)) if shadow else None,
        shadow_reasons=tuple(sorted(shadow, key=_order)),
        policy_version=version,
        capped=tuple(capped),
    )


def _lowered(reason: Reason) -> Reason:
    return Reason(reason.rule, Verdict.REVIEW, reason.bank, reason.entry, reason.signal_type,
                  reason.distance, reason.mode, capped=True)  # fmt: skip


def _order(r: Reason) -> tuple[int, str, str, str, str]:
    return (-r.verdict, r.rule, r.bank, r.entry, r.signal_type)
