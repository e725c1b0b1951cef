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
from dataclasses import dataclass
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
LOOKUP_BATCH = 1_000  # new hashes looked up in the seen log per query
_NAMESPACE = uuid.UUID("5b1f0c3e-7a0d-4b64-9c5e-2f1d3a6b8e90")


@dataclass
class RetroPass:
    changes: int = 0  # change-log rows looked at
    candidates: int = 0  # seen items matched again
    acted: int = 0  # verdicts written
    repeated: int = 0  # already acted on for that entry (a pass run again)
    seq: int = 0  # where the cursor stands after the pass


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
            for change, rows in self._seen_with(adds):
                self._change(change, rows, done)
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

    def _change(self, change: Any, rows: list[dict[str, Any]], done: RetroPass) -> None:
        """Act on the seen items ``rows`` that carry ``change``'s new signal."""
        entries = self.engine.indexes.entries.get([change.entry_pk], self.store.entries)
        entry = entries.get(change.entry_pk)
        if entry is None or entry.status != "active":
            return
        for row in rows:
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

    def _seen_with(self, adds: list[Any]) -> list[tuple[Any, list[dict[str, Any]]]]:
        """Each change of ``adds`` whose signal seen items carry, with those items: checked
        before it was applied (a later check was matched against it live), one row per
        item (its latest). Looked up a batch at a time: most new entries match nothing."""
        seen = self.store.seen_log
        rows_of: dict[int, list[dict[str, Any]]] = {}
        for signal_type, column in EXACT.items():
            some = [c for c in adds if c.signal_type == signal_type]
            for start in range(0, len(some), LOOKUP_BATCH):
                chunk = some[start : start + LOOKUP_BATCH]
                found: dict[str, list[dict[str, Any]]] = {}
                for row in seen.records(column=column, values=[c.value for c in chunk],
                                        limit=100_000):  # fmt: skip
                    found.setdefault(row[column], []).append(row)
                for c in chunk:
                    if c.value in found:
                        rows_of[c.seq] = found[c.value]
        pdq = [c for c in adds if c.signal_type == "pdq"]
        by_threshold: dict[int, list[Any]] = {}
        for c in pdq:
            bank = self.engine.banks.get(c.bank_id)
            by_threshold.setdefault(bank.pdq_threshold if bank else DEFAULT_THRESHOLD, []).append(c)
        for threshold, changes in by_threshold.items():
            ids_of = self._pdq.search_many([c.value for c in changes], threshold)
            wanted = sorted({i for ids in ids_of for i in ids})
            rows: dict[int, dict[str, Any]] = {}
            for start in range(0, len(wanted), LOOKUP_BATCH):
                chunk = wanted[start : start + LOOKUP_BATCH]
                rows.update((r["id"], r) for r in seen.records(ids=chunk, limit=len(chunk)))
            for c, ids in zip(changes, ids_of, strict=True):
                if ids:
                    rows_of[c.seq] = sorted((rows[i] for i in ids if i in rows),
                                            key=lambda r: (r["at"], r["id"]))  # fmt: skip
        out = []
        for change in adds:
            latest: dict[str, dict[str, Any]] = {}
            for row in rows_of.get(change.seq, ()):  # oldest first: the last one wins
                if row["list_seq"] < change.seq:
                    latest[row["content_key"]] = row
            if latest:
                out.append((change, list(latest.values())))
        return out


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
