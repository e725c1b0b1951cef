"""Publishing a feed: the next version of a bank's list as a delta (and, every few
versions, a snapshot) of content-addressed JSON Lines files, then the signed manifest,
written last and atomically. See docs/feeds.md.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import itertools
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hashguard.banks.model import validate_name
from hashguard.errors import (
    Conflict,
    FeedRejected,
    InvalidValue,
    ListRejected,
    RowError,
)
from hashguard.feeds.manifest import (
    FILE_MODE,
    FeedFile,
    Kind,
    Manifest,
    seal,
    timestamp,
    verify_manifest,
    write_atomic,
)
from hashguard.feeds.signing import key_id, trusted_keys
from hashguard.lists.jsonl_format import read_jsonl
from hashguard.lists.rows import ListRow, parse_row
from hashguard.signals.registry import Registry, default_registry

MANIFEST = "feed.json"
_OURS = re.compile(r"^(snapshot|delta)-\d{10}-[0-9a-f]{16}\.jsonl$")


# -- publishing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishReport:
    feed: str
    version: int
    changed: bool  # False: only the manifest's dates (and signature) were renewed
    entries_added: int = 0
    entries_updated: int = 0
    entries_retracted: int = 0
    snapshot: str | None = None  # files written
    delta: str | None = None
    expires_at: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _entries(
    rows: Iterable[Mapping[str, Any] | ListRow], registry: Registry, errors: list[RowError]
) -> Iterator[tuple[str, list[ListRow]]]:
    """(key, rows) of each active entry; the rows of one entry must be consecutive."""

    def parsed() -> Iterator[ListRow]:
        for n, r in enumerate(rows, start=1):
            row = r if isinstance(r, ListRow) else parse_row(r, n, registry)
            if isinstance(row, RowError):
                errors.append(row)
            else:
                yield row

    for key, group in itertools.groupby(parsed(), key=lambda r: r.key):
        entry = [r for r in group if r.action == "add"]
        if entry:
            yield key, entry


def _digest(entry: list[ListRow]) -> bytes:
    """What a subscriber keeps of an entry: the metadata of its first row, and its signals."""
    first = entry[0]
    signals = sorted(
        {(r.signal_type, r.value, -1 if r.quality is None else r.quality) for r in entry}
    )
    meta = [first.category, first.severity, first.note, first.extra, signals]
    return hashlib.blake2b(json.dumps(meta).encode(), digest_size=16).digest()


def _records(key: str, entry: list[ListRow]) -> Iterator[dict[str, Any]]:
    for r in entry:
        record: dict[str, Any] = {"signal_type": r.signal_type, "signal": r.value, "id": key}
        for name in ("category", "severity", "note", "quality"):
            if getattr(r, name) is not None:
                record[name] = getattr(r, name)
        yield record | (json.loads(r.extra) if r.extra else {})


class _FileWriter:
    """Writes one content-addressed feed file: a temporary file, renamed when finished."""

    def __init__(self, directory: Path, kind: Kind, version: int) -> None:
        self.directory, self.kind, self.version = directory, kind, version
        fd, name = tempfile.mkstemp(prefix=".tmp-", dir=directory)
        os.fchmod(fd, FILE_MODE)
        self.temp, self.out = Path(name), os.fdopen(fd, "wb")
        self.sha, self.size, self.rows = hashlib.sha256(), 0, 0

    def write(self, record: Mapping[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode()
        self.sha.update(line)
        self.out.write(line)
        self.size, self.rows = self.size + len(line), self.rows + 1

    def finish(self) -> FeedFile:
        self.out.flush()
        os.fsync(self.out.fileno())
        self.out.close()
        sha = self.sha.hexdigest()
        name = f"{self.kind}-{self.version:010d}-{sha[:16]}.jsonl"
        self.temp.rename(self.directory / name)
        return FeedFile(self.kind, self.version, name, sha, self.size, self.rows)

    def discard(self) -> None:
        self.out.close()
        self.temp.unlink(missing_ok=True)


@contextmanager
def _writer(
    directory: Path, kind: Kind, version: int, wanted: bool
) -> Iterator[_FileWriter | None]:
    writer = _FileWriter(directory, kind, version) if wanted else None
    try:
        yield writer
    finally:
        if writer is not None and not writer.out.closed:
            writer.discard()


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    with open(directory / ".publish.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(
                f"another `feed publish` is writing to {directory}; try again later"
            ) from None
        yield


def _verified_rows(directory: Path, f: FeedFile, registry: Registry) -> Iterator[ListRow]:
    """A file of our own feed, checked against the manifest before it is read."""
    where, sha, size = str(directory / f.name), hashlib.sha256(), 0
    errors: list[RowError] = []
    try:
        with open(directory / f.name, "rb") as stream:
            for line in stream:
                sha.update(line)
                size += len(line)
            f.check(size, sha.hexdigest(), where)
            stream.seek(0)
            yield from read_jsonl(stream, registry, errors)
    except FileNotFoundError:
        raise FeedRejected(f"{where} is listed in the manifest but missing", "missing") from None
    if errors:
        raise FeedRejected(f"{where}: {errors[0]} ({len(errors)} bad row(s))", "malformed")


def _published_state(directory: Path, m: Manifest, registry: Registry) -> dict[str, bytes]:
    """Entry key -> digest, as subscribers at ``m.version`` have them."""
    errors: list[RowError] = []  # stays empty: _verified_rows raises on bad rows
    rows = _verified_rows(directory, m.snapshot, registry)
    state = {key: _digest(entry) for key, entry in _entries(rows, registry, errors)}
    for delta in (d for d in m.deltas if d.version > m.snapshot.version):
        rows = _verified_rows(directory, delta, registry)
        for key, group in itertools.groupby(rows, key=lambda r: r.key):
            entry = [r for r in group if r.action == "add"]
            if entry:
                state[key] = _digest(entry)
            else:
                state.pop(key, None)
    return state


def publish(
    directory: Path, rows: Iterable[Mapping[str, Any]], key: Ed25519PrivateKey, *, feed: str,
    registry: Registry | None = None, previous_keys: Iterable[Ed25519PublicKey] = (),
    snapshot_every: int = 10, keep_deltas: int = 30, valid_for: timedelta = timedelta(days=7),
    now: datetime | None = None,
) -> PublishReport:  # fmt: skip
    """Publish a bank's active ``rows`` (as ``Store.export_rows`` yields them: the rows of one
    entry consecutive) as the next version of the feed in ``directory``.

    Writes a delta against the previous version, a full snapshot every ``snapshot_every``
    versions, then the signed manifest, last and atomically. If nothing changed, only the
    manifest's dates are renewed. ``previous_keys`` verify a manifest signed before a key
    rotation; deltas of the last ``keep_deltas`` versions stay listed.
    """
    validate_name(feed, "feed")
    if snapshot_every < 1 or keep_deltas < 0 or valid_for <= timedelta(0):
        raise InvalidValue("snapshot_every must be >= 1, keep_deltas >= 0 and valid_for > 0")
    registry = registry or default_registry()
    now = now or datetime.now(UTC)
    directory.mkdir(parents=True, exist_ok=True)
    with _locked(directory):
        for leftover in directory.glob(".tmp-*"):  # from a publish that crashed
            leftover.unlink()
        try:
            previous = _previous(directory, [key.public_key(), *previous_keys], feed)
            state = _published_state(directory, previous, registry) if previous else {}
        except FeedRejected as e:
            raise FeedRejected(f"{e.message}; nothing was published", e.reason) from None
        version = previous.version + 1 if previous else 1
        due = previous is None or version - previous.snapshot.version >= snapshot_every
        listed = previous is not None and (keep_deltas > 0 or not due)  # else never fetched
        with (
            _writer(directory, "snapshot", version, due) as snapshot,
            _writer(directory, "delta", version, listed) as delta,
        ):
            counts = _write_version(feed, rows, state, snapshot, delta, registry)
            if previous is not None and not any(counts):
                return _renew(directory, previous, key, now + valid_for, now)
            new_snapshot = snapshot.finish() if snapshot else None
            new_delta = delta.finish() if delta else None
        last_snapshot = new_snapshot or (previous.snapshot if previous else None)
        assert last_snapshot is not None  # a first version always writes a snapshot
        deltas = [*(previous.deltas if previous else ()), *([new_delta] if new_delta else [])]
        oldest = min(last_snapshot.version, version - keep_deltas)
        m = Manifest(
            feed, key_id(key.public_key()), version, now, now + valid_for, last_snapshot,
            tuple(d for d in deltas if d.version > oldest),
        )  # fmt: skip
        write_atomic(directory / MANIFEST, seal(key, m.to_bytes()))
        _prune(directory, m, previous)
    return PublishReport(
        feed, version, True, *counts,
        snapshot=new_snapshot.name if new_snapshot else None,
        delta=new_delta.name if new_delta else None,
        expires_at=timestamp(m.expires_at),
    )  # fmt: skip


def _previous(directory: Path, keys: list[Ed25519PublicKey], feed: str) -> Manifest | None:
    path = directory / MANIFEST
    if not path.exists():
        return None
    m = verify_manifest(path.read_bytes(), trusted_keys(keys), str(path))
    if m.feed != feed:
        raise InvalidValue(f"{directory} holds feed {m.feed!r}, not {feed!r}")
    return m


def _renew(
    directory: Path, m: Manifest, key: Ed25519PrivateKey, expires: datetime, now: datetime
) -> PublishReport:
    renewed = dataclasses.replace(
        m, key_id=key_id(key.public_key()), created_at=now, expires_at=expires
    )
    write_atomic(directory / MANIFEST, seal(key, renewed.to_bytes()))
    return PublishReport(m.feed, m.version, False, expires_at=timestamp(expires))


def _write_version(
    feed: str, rows: Iterable[Mapping[str, Any]], state: dict[str, bytes],
    snapshot: _FileWriter | None, delta: _FileWriter | None, registry: Registry,
) -> tuple[int, int, int]:  # fmt: skip
    """Stream the entries into the snapshot and the delta; (added, updated, retracted)."""
    errors: list[RowError] = []
    added = updated = 0
    seen = b""  # marks keys already streamed, in ``state`` itself to save memory
    for key, entry in _entries(rows, registry, errors):
        digest, before = _digest(entry), state.get(key)
        if before == seen:
            raise InvalidValue(f"the rows of entry {key!r} are not consecutive")
        state[key] = seen
        for record in _records(key, entry):
            if snapshot:
                snapshot.write(record)
            if delta and digest != before:
                delta.write(record)
        added += before is None
        updated += before is not None and digest != before
    if errors:
        raise ListRejected(f"rows for feed {feed}", errors)
    gone = sorted(k for k, v in state.items() if v != seen)
    for key in gone:
        if delta:
            delta.write({"id": key, "action": "retract"})
    return added, updated, len(gone)


def _prune(directory: Path, m: Manifest, previous: Manifest | None) -> None:
    """Delete our files neither manifest lists. Those the previous one lists stay, for
    subscribers that fetched it moments ago and are still downloading."""
    keep = {f.name for x in (m, previous) if x for f in (x.snapshot, *x.deltas)}
    for path in directory.iterdir():
        if _OURS.match(path.name) and path.name not in keep:
            path.unlink()
