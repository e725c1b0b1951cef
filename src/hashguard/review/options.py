"""The review console's settings (docs/operations.md#review-console), read by Settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hashguard.review.model import OWN_BANK, SUPPRESS_BANK


@dataclass(frozen=True)
class ReviewOptions:
    claim_seconds: float = 15 * 60.0  # a claim lapses after this; the item is free again
    undo_window: float = 24 * 3600.0  # a lead may undo a decision this long after it
    own_bank: str = OWN_BANK
    suppress_bank: str = SUPPRESS_BANK
    session_hours: float = 8.0  # a console session ends this long after login in any case
    idle_minutes: float = 30.0  # ... or this long after its last request
    # Exposure limits: reveals of a preview per reviewer; past one, reveals are refused
    # and a break is suggested until the window has room again.
    reveals_per_hour: int = 30
    reveals_per_day: int = 150
    reveal_minutes: float = 10.0  # a reveal shows the item clear this long
    keys_file: Path | None = None  # sealing keys for kept content; None: nothing is kept
    keep_days: float = 30.0  # kept content's end, if not decided before
    keep_max_bytes: int = 20 << 20  # larger content is not kept (hashes only)


DEFAULT_REVIEW = ReviewOptions()
