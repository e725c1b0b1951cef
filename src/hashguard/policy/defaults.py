"""The policy in force until one is set: what a platform gets with no configuration.

- a match by an exact hash or a listed URL (every type matched by equality): ``block``;
- a perceptual hash within :data:`CLOSE` bits (PDQ: 10, where re-encodes and resizes of
  one picture fall, see docs/benchmarks.md): ``block``; farther, up to the bank's
  threshold (PDQ 31 by default): ``review``, as crops, overlays and unrelated look-alikes
  start there;
- a keyword: ``review`` (words have innocent uses that hashes do not);
- the review console's false positives (bank ``false-positives``) suppress, once it
  exists; no caps; no content kept.
"""

from __future__ import annotations

from hashguard.policy.model import Policy, Rule, Verdict
from hashguard.review.model import SUPPRESS_BANK
from hashguard.signals.registry import Registry

DESCRIPTION = "built in: exact hashes block; near perceptual hashes and keywords go to review"
CLOSE = {"pdq": 10}  # bits; a Hamming type not named here is close within a third of its threshold


def default_policy(registry: Registry) -> Policy:
    types = registry.types()
    exact = frozenset(t.name for t in types if t.matching == "exact")
    keyword = frozenset(t.name for t in types if t.matching == "keyword")
    rules: list[Rule] = []
    if exact:
        rules.append(Rule("exact", Verdict.BLOCK, signal_types=exact))
    for t in types:
        if t.matching != "hamming":
            continue
        close = CLOSE.get(t.name, t.default_threshold // 3)
        one = frozenset([t.name])
        rules.append(Rule(f"{t.name}-close", Verdict.BLOCK, signal_types=one, max_distance=close))
        rules.append(
            Rule(f"{t.name}-near", Verdict.REVIEW, signal_types=one, min_distance=close + 1)
        )
    if keyword:
        rules.append(Rule("keyword", Verdict.REVIEW, signal_types=keyword))
    return Policy(tuple(rules), frozenset([SUPPRESS_BANK]), description=DESCRIPTION)
