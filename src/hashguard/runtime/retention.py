"""Retention: what is deleted when, by the purge job (``serve``, under a lease) or
``hashguard purge``. Defaults and why are in docs/operations.md#retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hashguard.store.repositories import Repositories

# Seconds between purge passes in each serving process. No lease: a purge is idempotent
# and batched, so two processes purging at once only repeat a little work.
PURGE_EVERY = 3600.0


@dataclass(frozen=True)
class Retention:
    match_log_days: int = 365  # the US REPORT Act's preservation period for reported items
    outbox_days: int = 30  # long after any retry has ended; replay dead ones before
    seen_days: int = 90  # every checked item; the matched ones are in the match log too

    def purge(self, store: Repositories, now: datetime | None = None) -> dict[str, int]:
        """Delete what is past its retention; returns how many of each."""
        now = now or datetime.now(UTC)
        # Whole days, so that the statistics can first freeze every day whose rows go.
        day = (now - timedelta(days=self.match_log_days)).date()
        stats: Any = getattr(store, "stats", None)  # the SQL store's
        if stats is not None:
            stats.freeze(day)
        out = {
            "match_log": store.match_log.purge(datetime(day.year, day.month, day.day, tzinfo=UTC)),
            "seen_log": store.seen_log.purge((now - timedelta(days=self.seen_days)).date()),
        }
        hooks: Any = getattr(store, "webhooks", None)  # the SQL store's
        if hooks is not None:
            out["outbox"] = hooks.purge(now - timedelta(days=self.outbox_days))
        kept: Any = getattr(store, "kept", None)  # content kept for review, at its end
        if kept is not None:
            out["kept"] = kept.purge(now.timestamp())
        reports: Any = getattr(store, "reports", None)  # submitted reports' evidence
        if reports is not None:
            out["evidence"] = reports.purge(now.timestamp())
        guard: Any = store.flood_guard
        if hasattr(guard, "purge"):  # the SQL store's counts: windows over a day ago
            guard.purge(now.timestamp())
        return out
