"""Retroactive matching: when a bank gains entries, the items already seen that match them
go through the policy like fresh checks, marked ``retroactive``, each acted on at most once
per entry.

A pass follows the change log from its own cursor (kept in the store), up to where the
engine's indexes are (so each new entry is searchable). For every new signal it finds the
seen items carrying it: by the seen log's hash columns for MD5 and SHA-256 (indexed), and
for PDQ through an index of the seen log's PDQ hashes kept in this process
(:class:`~hashguard.seen.pdq_index.SeenPdqIndex`), searched within the bank's threshold.
Each such item is matched again, all its hashes against all the indexes (so a suppress
bank still cancels, and the policy sees every match), and if the new entry is among its
matches and the verdict is not allow, the verdict is written like a fresh one: match log
and outbox in one transaction, its event id derived from the item and the entry. A pass
interrupted and run again finds that event there and acts no second time.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from hashguard.actions.model import Checked
from hashguard.engine import Engine
from hashguard.policy import Verdict
from hashguard.seen.pdq_index import SeenPdqIndex
from hashguard.signals.base import Signal
from hashguard.signals.pdq import DEFAULT_THRESHOLD
from hashguard.store.seen_log import FLUSH_SECONDS

log = logging.getLogger(__name__)

CURSOR = "retro"
GRACE = FLUSH_SECONDS * 2  # seconds a change waits for the seen log's buffers
BATCH = 10_000  # changes read per step
EXACT = {"md5": "md5", "sha256": "sha256"}  # signal type: the seen log's column for it
_NAMESPACE = uuid.UUID("5b1f0c3e-7a0d-4b64-9c5e-2f1d3a6b8e90")


@dataclass
class RetroPass:
    changes: int = 0  # change-log rows looked at
    candidates: int = 0  # seen items matched again
    acted: int = 0  # verdicts written
    repeated: int = 0  # already acted on for that entry (a pass run again)
    seq: int = 0  # where the cursor stands after the pass
    errors: list[str] = field(default_factory=list)


class Retro:
    """``grace``: how long a change waits before it is matched against the seen log, so
    that checks answered just before it (whose rows wait up to FLUSH_SECONDS in some
    process's buffer) are in the log by then."""

    def __init__(self, engine: Engine, *, grace: float = GRACE) -> None:
        self.engine = engine
        self.store = engine.store
        self.grace = grace
        self._pdq = SeenPdqIndex(engine.store.seen_log)
        self._seen_seqs: deque[tuple[float, int]] = deque()  # (when, the indexes' seq)

    def status(self) -> dict[str, Any]:
        cursor = self.store.seen_log.cursor(CURSOR)
        last = self.store.last_seq()
        return {"cursor": cursor, "last_seq": last, "lag": max(0, last - cursor),
                "seen_pdq_indexed": len(self._pdq)}  # fmt: skip

    def run_once(self) -> RetroPass:
        done = RetroPass()
        cursor = self.store.seen_log.cursor(CURSOR)
        limit = self._settled()
        while cursor < limit:
            changes = [c for c in self.store.changes_after(cursor, BATCH) if c.seq <= limit]
            if not changes:
                break
            adds = [c for c in changes if c.kind == "add" and c.signal_type and c.value]
            for change in adds:
                self._change(change, done)
            cursor = changes[-1].seq
            self.store.seen_log.set_cursor(CURSOR, cursor)
            done.changes += len(changes)
        done.seq = cursor
        return done

    def _settled(self) -> int:
        """The indexes' position as it was ``grace`` seconds ago: no further than the
        indexes (new entries must be found), and late enough for the seen log."""
        now = time.monotonic()
        self._seen_seqs.append((now, self.engine.seq))
        settled = 0
        while self._seen_seqs and self._seen_seqs[0][0] <= now - self.grace:
            settled = self._seen_seqs.popleft()[1]
        if settled:  # keep the newest settled sample for the next pass
            self._seen_seqs.appendleft((now - self.grace, settled))
        return settled

    def _change(self, change: Any, done: RetroPass) -> None:
        entries = self.engine.indexes.entries.get([change.entry_pk], self.store.entries)
        entry = entries.get(change.entry_pk)
        if entry is None or entry.status != "active":
            return
        for row in self._seen_with(change):
            done.candidates += 1
            signals = _signals(self.engine, row["signals"])
            matches = self.engine.match_signals(signals)
            if not any(m.bank == entry.bank and m.entry == entry.id for m in matches):
                continue  # not within the bank's threshold, or the bank is disabled
            decision = self.engine.decide(matches, surface=row["surface"])
            if decision.verdict == Verdict.ALLOW:
                continue
            item = Checked(
                verdict=decision.verdict, policy_version=decision.policy_version,
                list_seq=change.seq, content_key=row["content_key"],
                matches=tuple({"bank": m.bank, "entry": m.entry, "signal_type": m.signal_type,
                               "distance": m.distance} for m in matches),
                reasons=tuple(r.as_dict() for r in decision.reasons),
                signals=row["signals"], context=_context(row), shadow=decision.shadow,
                retroactive=True,
                event_id=str(uuid.uuid5(_NAMESPACE, f"{row['content_key']}|{change.entry_pk}")),
            )  # fmt: skip
            if self.store.match_log.record_once(item) is None:
                done.repeated += 1
            else:
                done.acted += 1

    def _seen_with(self, change: Any) -> list[dict[str, Any]]:
        """The seen items carrying ``change``'s signal, checked before it was applied (a
        later check was matched against it live), one row per item: its latest."""
        seen = self.store.seen_log
        if change.signal_type in EXACT:
            rows = seen.records(column=EXACT[change.signal_type], value=change.value, limit=10_000)
        elif change.signal_type == "pdq":
            bank = self.engine.banks.get(change.bank_id)
            threshold = bank.pdq_threshold if bank is not None else DEFAULT_THRESHOLD
            ids = self._pdq.search(change.value, threshold)
            rows = seen.records(ids=ids, limit=len(ids)) if ids else []
        else:
            return []
        latest: dict[str, dict[str, Any]] = {}
        for row in rows:  # oldest first: the last one before the entry of an item wins
            if row["list_seq"] < change.seq:
                latest[row["content_key"]] = row
        return list(latest.values())


def _signals(engine: Engine, stored: dict[str, Any]) -> list[Signal]:
    """An item's hashes as the seen log kept them, as signals (what is not one is skipped)."""
    out = []
    names = set(engine.registry.names())
    for name, value in stored.items():
        for v in value if isinstance(value, list) else [value]:
            if name in names and isinstance(v, str):
                try:
                    out.append(engine.registry.parse(name, v))
                except Exception:
                    continue
    return out


def _context(row: dict[str, Any]) -> dict[str, str]:
    keys = ("content_id", "chat_id", "uploader_id", "surface", "event_time")
    return {k: row[k] for k in keys if row.get(k) is not None}
