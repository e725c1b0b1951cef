"""Running syncs: one source on demand, or every source that is due, by whichever process
holds the sync lease (one fetcher at a time across all replicas)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from hashguard import plugins
from hashguard.errors import (
    ConfigError,
    FeedRejected,
    FeedUnavailable,
    HashguardError,
    ListRejected,
)
from hashguard.signals.registry import Registry
from hashguard.sources.model import Source
from hashguard.store.repositories import Repositories

log = logging.getLogger(__name__)

# What a source kind registers: sync ``source`` into its bank, one import report per batch.
Syncer = Callable[[Repositories, Source, Registry], Sequence[Any]]


@dataclass(frozen=True)
class Outcome:
    source: str
    # ok, rejected (alert: nothing applied), unavailable (retry), error (misconfigured, or
    # reason "unexpected": a failure hashguard has no name for, e.g. a library's bug)
    status: str
    reason: str | None = None
    message: str | None = None
    batches: int = 0
    totals: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "status": self.status}
        if self.reason:
            out["reason"] = self.reason
        if self.message:
            out["message"] = self.message
        return out | {"batches": self.batches, **self.totals}


_MAX_ERROR = 2000  # characters of an error message kept on the source


def _unexpected(source: Source, e: Exception) -> Outcome:
    """Any other exception is this source's failure too: it must not stop the sources after
    it (the round goes on) nor go unrecorded. The traceback goes to the log."""
    log.exception("source %s: unexpected error", source.name)
    text = f"unexpected error ({type(e).__name__}: {e}); retried at the next interval"
    return Outcome(source.name, "error", "unexpected", text)


def _clean(message: str) -> str:
    """What a failure said, made safe to store: an upstream's garbage may hold NULs, which
    PostgreSQL's text refuses, and be of any length."""
    message = message.replace("\x00", "\\x00")
    return message if len(message) <= _MAX_ERROR else message[: _MAX_ERROR - 1] + "…"


def sync_source(store: Repositories, source: Source, registry: Registry) -> Outcome:
    """Sync one source; never raises for the source's own failures (any ``Exception``),
    which are recorded on the source (``last_error``) and logged, a rejected list as an
    error to alert on."""
    try:
        store.bank(source.bank)
        reports = source_kind(source.kind)(store, source, registry)
    except FeedRejected as e:
        outcome = Outcome(source.name, "rejected", e.reason, e.message)
    except ListRejected as e:
        outcome = Outcome(source.name, "rejected", "rows", e.message)
    except FeedUnavailable as e:
        outcome = Outcome(source.name, "unavailable", None, e.message)
    except HashguardError as e:
        outcome = Outcome(source.name, "error", type(e).__name__, e.message)
    except Exception as e:
        outcome = _unexpected(source, e)
    else:
        totals: dict[str, int] = {}
        for r in reports:
            for key in ("entries_added", "signals_added", "reactivated", "retracted"):
                totals[key] = totals.get(key, 0) + int(getattr(r, key))
        outcome = Outcome(source.name, "ok", batches=len(reports), totals=totals)
    if outcome.message is not None:
        outcome = replace(outcome, message=_clean(outcome.message))
    store.sources.record_outcome(source.name, outcome.message if outcome.status != "ok" else None)
    if outcome.status == "rejected":
        log.error("source %s REJECTED (%s): %s", source.name, outcome.reason, outcome.message)
    elif outcome.status != "ok" and outcome.reason != "unexpected":  # that one logged already
        log.warning("source %s: %s", source.name, outcome.message)
    return outcome


def source_kind(kind: str) -> Syncer:
    """The sync function of an installed source kind (``hashguard.source_kinds``)."""
    kinds = plugins.load(plugins.SOURCE_KINDS)
    if kind not in kinds:
        raise ConfigError(f"source kind {kind!r} is not installed (known: {', '.join(kinds)})")
    syncer: Syncer = kinds[kind]
    return syncer


def due(source: Source, now: datetime) -> bool:
    if not source.enabled:
        return False
    last = source.last_attempt_at
    if last is None:
        return True
    if last.tzinfo is None:  # SQLite keeps no time zone; hashguard writes UTC
        last = last.replace(tzinfo=UTC)
    return (now - last).total_seconds() >= source.interval


def sync_due(
    store: Repositories, registry: Registry, owner: str, lease_seconds: float
) -> list[Outcome]:
    """Sync every due source if ``owner`` holds (or can take) the lease; else nothing. Each
    source is on its own: one that fails is recorded and the round goes on to the next."""
    outcomes: list[Outcome] = []
    for source in store.sources.list():
        # Renewed before each source, so a process that dies lets another take over soon.
        if not store.sources.claim(owner, lease_seconds):
            break
        if due(source, datetime.now(UTC)):
            outcomes.append(sync_source(store, source, registry))
    return outcomes
