"""The in-memory store's API keys, sources, policies and audit log: what
:mod:`~hashguard.store.key_table`, :mod:`~hashguard.store.sources`,
:mod:`~hashguard.store.policy_table` and :mod:`~hashguard.store.audit` keep in SQL, with the
same checks (shared with them)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from hashguard.access.api_keys import ApiKey, NewKey, hash_key, no_key
from hashguard.actions.model import Checked, Logged
from hashguard.banks.model import NO_BANK
from hashguard.errors import Conflict
from hashguard.policy.model import PolicyRecord
from hashguard.sources.model import Source, check_new_source, decoded_checkpoint, no_source
from hashguard.store.sources import lease_taken, lease_value


def now() -> datetime:
    return datetime.now(UTC)


class MemoryAudit:
    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._rows: list[dict[str, Any]] = []

    def append(self, actor: str, action: str, target: str | None, detail: dict[str, Any]) -> None:
        with self._lock:
            self._rows.append(
                {
                    "id": len(self._rows) + 1,
                    "at": now().isoformat(),
                    "actor": actor[:128],
                    "action": action,
                    "target": target,
                    # stored as the SQL log stores it: JSON, odd values as their text
                    "detail": json.loads(json.dumps(detail, default=str)),
                }
            )

    def read(self, *, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._rows[after : after + limit]]  # ids are 1, 2, ...

    def latest(self, limit: int = 300) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in reversed(self._rows[-limit:])]


class MemoryKeys:
    def __init__(self, lock: threading.RLock, audit: MemoryAudit) -> None:
        self._lock = lock
        self._audit = audit
        self._keys: dict[str, tuple[str, ApiKey]] = {}  # name: (hash, key), in creation order
        self.version = 0  # moves with each change (a listener's key_changes)

    def create(
        self, name: str | None, scopes: list[str], *, rate_limit: int | None = None, actor: str
    ) -> tuple[ApiKey, str]:
        new = NewKey.make(name, scopes, rate_limit)
        with self._lock:
            if new.name in self._keys:
                raise Conflict(f"a key named {new.name!r} already exists")
            key = ApiKey(
                len(self._keys) + 1, new.name, new.prefix, new.scopes, new.rate_limit, now()
            )
            self._keys[new.name] = (hash_key(new.secret), key)
            self.version += 1
            self._audit.append(actor, "key.create", new.name, {"scopes": list(new.scopes)})
        return key, new.secret

    def revoke(self, name: str, *, actor: str) -> ApiKey:
        with self._lock:
            digest, key = self._found(name)
            if key.revoked_at is None:
                key = replace(key, revoked_at=now())
                self._keys[name] = (digest, key)
                self.version += 1
                self._audit.append(actor, "key.revoke", name, {})
            return key

    def _found(self, name: str) -> tuple[str, ApiKey]:
        if name not in self._keys:
            raise no_key(name)
        return self._keys[name]

    def get(self, name: str) -> ApiKey:
        with self._lock:
            return self._found(name)[1]

    def list(self) -> list[ApiKey]:
        with self._lock:
            return [key for _, key in self._keys.values()]

    def by_hash(self) -> dict[str, ApiKey]:
        with self._lock:
            return dict(self._keys.values())

    def find(self, secret: str) -> ApiKey | None:
        return self.by_hash().get(hash_key(secret))


class MemoryPolicies:
    def __init__(
        self, writing: Callable[[], AbstractContextManager[Any]], audit: MemoryAudit
    ) -> None:
        self._writing = writing  # the store's: a policy is logged as a change
        self._audit = audit
        self._rows: list[PolicyRecord] = []

    def current(self) -> PolicyRecord | None:
        found = self.history(limit=1)
        return found[0] if found else None

    def history(self, *, limit: int = 50) -> list[PolicyRecord]:
        return self._rows[::-1][:limit]

    def set(self, document: dict[str, Any], *, actor: str) -> PolicyRecord:
        with self._writing() as tables:
            stored = json.loads(json.dumps(document))  # a copy, as the SQL store's JSON is
            record = PolicyRecord(len(self._rows) + 1, stored, actor[:128], now().isoformat())
            self._rows = [*self._rows, record]
            tables.log("policy", NO_BANK)
            version = record.version
            self._audit.append(actor, "policy.set", f"v{version}", {"version": version})
        return record


class MemoryMatchLog:
    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._records: list[dict[str, Any]] = []
        self._events: list[dict[str, Any]] = []
        self._last = 0  # ids are never reused, purges or not

    def submit(self, item: Checked) -> Future[Logged]:
        future: Future[Logged] = Future()
        with self._lock:
            self._last += 1
            match_id = self._last
            at = now().isoformat()
            self._records.append({
                "id": match_id, "at": at, "verdict": item.verdict.label,
                "shadow": item.shadow.label if item.shadow is not None else None,
                "retroactive": item.retroactive, "policy_version": item.policy_version,
                "list_seq": item.list_seq, "content_key": item.content_key,
                "context": dict(item.context), "matches": [dict(m) for m in item.matches],
                "reasons": [dict(r) for r in item.reasons], "signals": dict(item.signals),
            })  # fmt: skip
            event_id = None
            if item.acted:
                event = json.loads(json.dumps(item.event(match_id, at)))
                self._events.append({"id": match_id, "event": event})
                event_id = item.event_id
        future.set_result(Logged(match_id, event_id))
        return future

    def records(self, *, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._records if r["id"] > after][:limit]

    def record_once(self, item: Checked) -> Logged | None:
        with self._lock:
            if any(e["event"]["event_id"] == item.event_id for e in self._events):
                return None
            return self.submit(item).result()

    def events(self, *, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self._events if e["id"] > after][:limit]

    def purge(self, before: datetime, *, batch: int = 10_000) -> int:
        """Records (and, with no webhooks here, their events) made before ``before``."""
        with self._lock:
            kept = [r for r in self._records if datetime.fromisoformat(r["at"]) >= before]
            gone = len(self._records) - len(kept)
            self._records = kept
            self._events = [
                e for e in self._events
                if datetime.fromisoformat(e["event"]["created_at"]) >= before
            ]  # fmt: skip
        return gone

    def close(self) -> None:
        pass


class MemorySeenLog:
    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._rows: list[dict[str, Any]] = []
        self._last = 0
        self._cursors: dict[str, int] = {}
        self.written = 0
        self.dropped = 0

    def record(self, row: dict[str, Any]) -> None:
        with self._lock:
            self._last += 1
            self._rows.append({**row, "id": self._last, "signals": dict(row["signals"])})
            self.written += 1

    def flush(self) -> int:
        return 0

    def records(
        self, *, content_key: str | None = None, column: str | None = None,
        value: str | None = None, ids: Sequence[int] | None = None, limit: int = 1000,
        values: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        wanted = None if ids is None else set(ids)
        equal = {value} if values is None else set(values)
        with self._lock:
            rows = sorted(
                (
                    r
                    for r in self._rows
                    if content_key in (None, r["content_key"])
                    and (column is None or r[column] in equal)
                    and (wanted is None or r["id"] in wanted)
                ),
                key=lambda r: (r["at"], r["id"]),
            )[:limit]  # as the SQL log orders them
        return [{**r, "day": r["day"].isoformat(), "at": r["at"].isoformat()} for r in rows]

    def pdq_after(self, after: int, limit: int = 100_000) -> list[tuple[int, str]]:
        with self._lock:
            return [(r["id"], r["pdq"]) for r in self._rows if r["id"] > after and r["pdq"]][:limit]

    def last_id(self) -> int:
        return self._last

    def claim(self, owner: str, seconds: float) -> bool:
        return True  # one process is all there is

    def cursor(self, name: str) -> int:
        return self._cursors.get(name, 0)

    def set_cursor(self, name: str, value: int) -> None:
        self._cursors[name] = value

    def purge(self, before: date) -> int:
        with self._lock:
            kept = [r for r in self._rows if r["day"] >= before]
            gone, self._rows = len(self._rows) - len(kept), kept
        return gone

    def close(self) -> None:
        pass


class MemorySources:
    def __init__(self, lock: threading.RLock, audit: MemoryAudit) -> None:
        self._lock = lock
        self._audit = audit
        self._sources: dict[str, Source] = {}
        self._lease: str | None = None

    def add(
        self, name: str, kind: str, bank: str, url: str, settings: Mapping[str, Any], *,
        actor: str,
    ) -> Source:  # fmt: skip
        check_new_source(name, kind)
        with self._lock:
            if name in self._sources:
                raise Conflict(f"a source named {name!r} already exists")
            stored = json.loads(json.dumps(dict(settings), sort_keys=True))
            self._sources[name] = Source(name, kind, bank, url, stored)
            self._audit.append(actor, "source.add", name, {"kind": kind, "bank": bank, "url": url})
            return self._sources[name]

    def remove(self, name: str, *, actor: str) -> None:
        with self._lock:
            if self._sources.pop(name, None) is None:
                raise no_source(name)
            self._audit.append(actor, "source.remove", name, {})

    def get(self, name: str) -> Source:
        with self._lock:
            if name not in self._sources:
                raise no_source(name)
            return self._sources[name]

    def list(self) -> list[Source]:
        with self._lock:
            return [self._sources[n] for n in sorted(self._sources)]

    def save_checkpoint(self, name: str, checkpoint: str | None) -> None:
        """Called under the store's lock by the import the checkpoint follows."""
        if name in self._sources:
            self._sources[name] = replace(self._sources[name], checkpoint=checkpoint)

    def reset_checkpoint(self, name: str, *, actor: str) -> Source:
        with self._lock:
            before = self.get(name)
            self.save_checkpoint(name, None)
            detail = {"checkpoint": decoded_checkpoint(before.checkpoint)}
            self._audit.append(actor, "source.reset", name, detail)
            return self.get(name)

    def record_outcome(self, name: str, error: str | None) -> None:
        with self._lock:
            source = self._sources.get(name)
            if source is None:
                return
            moment = now()
            success = moment if error is None else source.last_success_at
            self._sources[name] = replace(
                source, last_attempt_at=moment, last_error=error, last_success_at=success
            )

    def claim(self, owner: str, seconds: float) -> bool:
        at = time.time()
        with self._lock:
            if self._lease is not None and lease_taken(self._lease, owner, at):
                return False
            self._lease = lease_value(owner, seconds, at)
            return True
