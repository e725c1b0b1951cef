"""Feeds: a bank's list as a signed, versioned snapshot plus deltas, published and synced.

A feed is a directory any web server can serve: ``feed.json`` (the signed manifest, see
:mod:`hashguard.lists.feed_keys`) and content-addressed JSON Lines files in hashguard's list
format. Only the manifest is signed; it names every file with its SHA-256 and size. See
docs/feeds.md. These are plain functions over rows and a directory or URL: the store is
the caller's business.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import json
import os
import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import IO, Any, Literal
from urllib.parse import urljoin, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hashguard.banks.model import validate_bank_name
from hashguard.errors import HashguardError, InvalidValue, ListRejected, RowError
from hashguard.lists.feed_keys import key_id, no_duplicate_keys, open_envelope, seal, trusted_keys
from hashguard.lists.jsonl_format import read_jsonl
from hashguard.lists.rows import ListRow, parse_row
from hashguard.signals.registry import Registry, default_registry

MANIFEST = "feed.json"
Kind = Literal["snapshot", "delta"]
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
_OURS = re.compile(r"^(snapshot|delta)-\d{10}-[0-9a-f]{16}\.jsonl$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


class FeedError(HashguardError):
    http_status = 502
    exit_code = 8


class FeedRejected(FeedError):
    """A feed that failed verification. Nothing from it was applied; raise the alarm.

    ``reason`` is one word for alerting: malformed, signature, unknown_key, wrong_feed,
    rollback, expired, history, too_large, size, digest, missing.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class FeedUnavailable(FeedError):
    """The feed could not be fetched (network, HTTP error, missing file): try again later."""

    exit_code = 9


@dataclass(frozen=True)
class Limits:
    manifest_bytes: int = 1 << 20
    file_bytes: int = 4 << 30
    timeout: float = 60.0  # seconds without progress on one HTTP request


@dataclass(frozen=True)
class FeedFile:
    kind: Kind
    version: int
    name: str
    sha256: str
    size: int
    rows: int


@dataclass(frozen=True)
class Manifest:
    feed: str
    key_id: str
    version: int
    created_at: datetime
    expires_at: datetime
    snapshot: FeedFile
    deltas: tuple[FeedFile, ...]  # contiguous, ending at ``version``; may start before snapshot

    def to_bytes(self) -> bytes:
        def file(f: FeedFile) -> dict[str, Any]:
            return {k: getattr(f, k) for k in ("version", "name", "sha256", "size", "rows")}

        doc = {
            "feed": self.feed,
            "key_id": self.key_id,
            "version": self.version,
            "created_at": _timestamp(self.created_at),
            "expires_at": _timestamp(self.expires_at),
            "snapshot": file(self.snapshot),
            "deltas": [file(d) for d in self.deltas],
        }
        return (json.dumps(doc, indent=1) + "\n").encode()

    def file(self, kind: Kind, version: int) -> FeedFile | None:
        candidates = (self.snapshot,) if kind == "snapshot" else self.deltas
        return next((f for f in candidates if f.version == version), None)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _field(doc: Mapping[str, Any], name: str, kind: type) -> Any:
    value = doc.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{name!r} must be a {kind.__name__}, not {value!r}")
    if kind is int and value < 0:
        raise ValueError(f"{name!r} must not be negative")
    return value


def _parse_file(doc: object, kind: Kind) -> FeedFile:
    if not isinstance(doc, dict):
        raise ValueError(f"each {kind} must be an object")
    name, sha = _field(doc, "name", str), _field(doc, "sha256", str)
    if not _SAFE_NAME.match(name):
        raise ValueError(f"file name {name!r} is not a plain file name")
    if not _SHA256.match(sha):
        raise ValueError(f"sha256 of {name} is not 64 lowercase hex digits")
    ints = [_field(doc, k, int) for k in ("version", "size", "rows")]
    return FeedFile(kind, ints[0], name, sha, ints[1], ints[2])


def parse_manifest(raw: bytes) -> Manifest:
    """A manifest from its (already verified) bytes. Raises ValueError saying what is wrong."""
    doc = json.loads(raw, object_pairs_hook=no_duplicate_keys)
    if not isinstance(doc, dict):
        raise ValueError("expected a JSON object")
    times = []
    for name in ("created_at", "expires_at"):
        moment = datetime.fromisoformat(_field(doc, name, str))
        if moment.tzinfo is None:
            raise ValueError(f"{name!r} lacks a time zone")
        times.append(moment)
    deltas = _field(doc, "deltas", list)
    m = Manifest(
        feed=validate_bank_name(_field(doc, "feed", str)),
        key_id=_field(doc, "key_id", str),
        version=_field(doc, "version", int),
        created_at=times[0],
        expires_at=times[1],
        snapshot=_parse_file(doc.get("snapshot"), "snapshot"),
        deltas=tuple(_parse_file(d, "delta") for d in deltas),
    )
    versions = [d.version for d in m.deltas]
    if not 1 <= m.snapshot.version <= m.version:
        raise ValueError(f"snapshot version {m.snapshot.version} is not in 1..{m.version}")
    if versions and versions != list(range(versions[0], m.version + 1)):
        raise ValueError(f"delta versions {versions} do not run without gaps to {m.version}")
    if m.snapshot.version < m.version and (not versions or versions[0] > m.snapshot.version + 1):
        raise ValueError(f"no deltas lead from snapshot {m.snapshot.version} to {m.version}")
    names = [m.snapshot.name, *(d.name for d in m.deltas)]
    if len(set(names)) != len(names):
        raise ValueError("a file is listed twice")
    return m


# -- where a feed lives: a directory, a file:// URL or an http(s):// URL --------------------


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Keep credentials on the origin they were meant for, and HTTPS from being downgraded."""

    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
        headers: Message, newurl: str,
    ) -> urllib.request.Request | None:  # fmt: skip
        if req.full_url.startswith("https:") and not newurl.startswith("https:"):
            raise FeedUnavailable(f"{req.full_url} redirects to {newurl}: refusing to leave HTTPS")
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urlsplit(newurl).netloc != urlsplit(req.full_url).netloc:
            for name in ("Authorization", "Cookie", *(h for h, _ in req.header_items())):
                new.remove_header(name.capitalize())
        return new


_OPENER = urllib.request.build_opener(_Redirects)


@dataclass(frozen=True)
class _Source:
    base: str  # a directory path, or an http(s) URL ending in "/"
    http: bool
    headers: tuple[tuple[str, str], ...]
    timeout: float

    def url(self, name: str) -> str:
        return urljoin(self.base, name) if self.http else str(Path(self.base) / name)

    @contextmanager
    def open(self, name: str, *, fresh: bool = False) -> Iterator[IO[bytes]]:
        url = self.url(name)
        try:
            if not self.http:
                with open(url, "rb") as f:
                    yield f
                return
            headers = dict(self.headers) | ({"Cache-Control": "no-cache"} if fresh else {})
            request = urllib.request.Request(url, headers=headers)
            with _OPENER.open(request, timeout=self.timeout) as response:
                yield response
        except urllib.error.HTTPError as e:
            raise FeedUnavailable(f"{url}: HTTP {e.code} {e.reason}") from None
        except urllib.error.URLError as e:
            raise FeedUnavailable(f"{url}: {e.reason}") from None
        except OSError as e:  # also timeouts and connections dropped while reading
            raise FeedUnavailable(f"{url}: {e.strerror or e}") from None


def _source(location: str, headers: Mapping[str, str], timeout: float) -> _Source:
    """``location`` is the feed's directory (or its feed.json), as a path or URL."""
    scheme = urlsplit(location).scheme.lower()
    if scheme in ("http", "https"):
        base = location if location.endswith((".json", "/")) else location + "/"
        return _Source(base, True, tuple(headers.items()), timeout)
    if scheme == "file":
        location = urllib.request.url2pathname(urlsplit(location).path)
    elif scheme and len(scheme) > 1:  # one letter: a Windows drive
        raise InvalidValue(f"cannot fetch a feed from {location!r}: use https://, file:// or a path")
    path = Path(location)
    return _Source(str(path.parent if path.suffix == ".json" else path), False, (), timeout)


def _read_all(stream: IO[bytes], limit: int, where: str) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise FeedRejected(f"{where} is larger than the {limit}-byte limit", "too_large")
    return data


def _check_file(f: FeedFile, size: int, digest: str, where: str) -> None:
    if size != f.size:
        problem = "truncated" if size < f.size else "longer than the manifest says"
        raise FeedRejected(f"{where} is {problem}: {size} bytes, expected {f.size}", "size")
    if digest != f.sha256:
        raise FeedRejected(f"{where} does not match its SHA-256 in the manifest", "digest")


def _download(src: _Source, f: FeedFile, dest: Path, limits: Limits) -> None:
    where = src.url(f.name)
    if f.size > limits.file_bytes:
        raise FeedRejected(
            f"{where} is {f.size} bytes, over the {limits.file_bytes}-byte limit", "too_large"
        )
    sha, size = hashlib.sha256(), 0
    with src.open(f.name) as stream, open(dest, "wb") as out:
        while chunk := stream.read(min(_CHUNK, f.size - size + 1)):
            size += len(chunk)
            if size > f.size:
                break  # longer than declared: stop reading, _check_file says so
            sha.update(chunk)
            out.write(chunk)
    _check_file(f, size, sha.hexdigest(), where)


# -- subscribing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """How far a subscriber has applied a feed: the file that brought it to ``version``."""

    feed: str | None = None
    version: int = 0
    kind: Kind | None = None
    sha256: str | None = None


def load_checkpoint(path: Path) -> Checkpoint:
    """The checkpoint saved at ``path``; a fresh one if there is no file yet."""
    try:
        doc = json.loads(path.read_text())
        return Checkpoint(doc["feed"], int(doc["version"]), doc["kind"], doc["sha256"])
    except FileNotFoundError:
        return Checkpoint()
    except (ValueError, KeyError, TypeError) as e:
        raise InvalidValue(
            f"checkpoint {path} is unreadable ({e}); delete it to resync from the snapshot"
        ) from None


def save_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    _write_atomic(path, (json.dumps(checkpoint.__dict__) + "\n").encode())


def fetch_manifest(
    source: str, keys: Mapping[str, Ed25519PublicKey], checkpoint: Checkpoint, *,
    feed: str | None = None, headers: Mapping[str, str] | None = None,
    limits: Limits = Limits(), now: datetime | None = None,
) -> Manifest:  # fmt: skip
    """The feed's manifest, verified: signed by a trusted key, for the expected feed (``feed``,
    else the checkpoint's), not expired, and not older than the checkpoint."""
    src = _source(source, headers or {}, limits.timeout)
    where = src.url("" if src.base.endswith(".json") else MANIFEST)
    with src.open("" if src.base.endswith(".json") else MANIFEST, fresh=True) as stream:
        data = _read_all(stream, limits.manifest_bytes, where)
    m = _verify(data, keys, where)
    expected = feed or checkpoint.feed
    if expected is not None and m.feed != expected:
        raise FeedRejected(f"{where} is feed {m.feed!r}, not {expected!r}", "wrong_feed")
    now = now or datetime.now(UTC)
    if now > m.expires_at:
        raise FeedRejected(
            f"{where} (version {m.version}) expired at {_timestamp(m.expires_at)}: the "
            "publisher stopped refreshing it, or an old copy is being replayed",
            "expired",
        )
    if m.version < checkpoint.version:
        raise FeedRejected(
            f"{where} is version {m.version}, older than version {checkpoint.version} "
            "already applied: an old copy is being replayed, or the publisher rolled back",
            "rollback",
        )
    applied = m.file(checkpoint.kind, checkpoint.version) if checkpoint.kind else None
    if applied is not None and applied.sha256 != checkpoint.sha256:
        raise FeedRejected(
            f"{where}: version {checkpoint.version} differs from the one already applied: "
            "the publisher rewrote its history; ask them, or delete the checkpoint to resync",
            "history",
        )
    return m


def _verify(data: bytes, keys: Mapping[str, Ed25519PublicKey], where: str) -> Manifest:
    try:
        envelope = open_envelope(data)
    except ValueError as e:
        raise FeedRejected(f"{where} is malformed: {e}", "malformed") from None
    key = keys.get(envelope.key_id)
    if key is None:
        known = ", ".join(sorted(keys)) or "none"
        raise FeedRejected(
            f"{where} is signed by key {envelope.key_id}, which is not trusted (trusted: "
            f"{known}); if the publisher rotated its key, add its new public key",
            "unknown_key",
        )
    if not envelope.verifies_with(key):
        raise FeedRejected(
            f"{where}: the signature does not verify with key {envelope.key_id}: the manifest "
            "was altered or not signed by the publisher",
            "signature",
        )
    try:
        m = parse_manifest(envelope.manifest)
    except ValueError as e:  # signed, yet malformed: a publisher bug
        raise FeedRejected(f"{where} holds a malformed manifest: {e}", "malformed") from None
    if m.key_id != envelope.key_id:
        raise FeedRejected(f"{where} names key {m.key_id} inside, not the signer's", "malformed")
    return m


@dataclass(frozen=True)
class Step:
    """One version to apply, from a downloaded and verified file.

    A ``snapshot`` step replaces the bank's contents: its rows are every entry of the feed,
    followed by retractions of the bank's other active entries. Import each step's rows
    atomically, then save its checkpoint. Re-applying a step changes nothing, so a crash
    between the two is harmless.
    """

    feed: str
    file: FeedFile
    path: Path
    source: str

    @property
    def version(self) -> int:
        return self.file.version

    @property
    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.feed, self.file.version, self.file.kind, self.file.sha256)

    def rows(
        self, errors: list[RowError], registry: Registry | None = None,
        current: Iterable[Mapping[str, Any]] | None = None,
    ) -> Iterator[ListRow]:  # fmt: skip
        """The rows to import. ``current`` is the bank's rows (as ``Store.export_rows`` yields
        them), needed by a snapshot step; they are read before the first row is returned."""
        registry = registry or default_registry()
        if self.file.kind == "delta":
            return self._read(errors, registry)
        if current is None:
            raise ValueError("a snapshot step needs the bank's current rows to retract others")
        stale = {key for key, _ in _entries(current, registry, errors)}
        return self._replace(stale, errors, registry)

    def _read(self, errors: list[RowError], registry: Registry) -> Iterator[ListRow]:
        with open(self.path, "rb") as f:
            yield from read_jsonl(f, registry, errors)

    def _replace(self, stale: set[str], errors: list[RowError], reg: Registry) -> Iterator[ListRow]:
        line = 0
        for row in self._read(errors, reg):
            stale.discard(row.key)
            line = row.line
            yield row
        for line, key in enumerate(sorted(stale), start=line + 1):
            yield ListRow(line, "retract", key, None, None)


@dataclass(frozen=True)
class Sync:
    manifest: Manifest
    steps: tuple[Step, ...]  # empty when the subscriber is up to date


def plan(m: Manifest, checkpoint: Checkpoint) -> list[FeedFile]:
    """The files that bring a subscriber at ``checkpoint`` to ``m.version``: the deltas after
    it if the manifest still lists them all, else (or if smaller) the snapshot and the
    deltas after that."""
    deltas = {d.version: d for d in m.deltas}
    via_snapshot = [m.snapshot, *(deltas[v] for v in range(m.snapshot.version + 1, m.version + 1))]
    wanted = range(checkpoint.version + 1, m.version + 1)
    if checkpoint.version and all(v in deltas for v in wanted):
        via_deltas = [deltas[v] for v in wanted]
        if sum(f.size for f in via_deltas) <= sum(f.size for f in via_snapshot):
            return via_deltas
    return via_snapshot


@contextmanager
def open_feed(
    source: str, keys: Mapping[str, Ed25519PublicKey], checkpoint: Checkpoint, *,
    feed: str | None = None, headers: Mapping[str, str] | None = None,
    limits: Limits = Limits(), workdir: Path | None = None, now: datetime | None = None,
) -> Iterator[Sync]:  # fmt: skip
    """Fetch and verify the manifest and every file the subscriber needs, before anything
    is applied; yield the steps to apply. Downloads are deleted on exit."""
    with tempfile.TemporaryDirectory(prefix="hashguard-feed-", dir=workdir) as tmp:
        try:
            m = fetch_manifest(
                source, keys, checkpoint, feed=feed, headers=headers, limits=limits, now=now
            )
            src = _source(source, headers or {}, limits.timeout)
            steps = []
            if m.version > checkpoint.version:
                for f in plan(m, checkpoint):
                    _download(src, f, Path(tmp) / f.name, limits)
                    steps.append(Step(m.feed, f, Path(tmp) / f.name, src.url(f.name)))
        except FeedRejected as e:
            raise FeedRejected(f"{e.message}; nothing was applied", e.reason) from None
        yield Sync(m, tuple(steps))


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
        return dict(self.__dict__)


def _entries(
    rows: Iterable[Mapping[str, Any] | ListRow], registry: Registry, errors: list[RowError]
) -> Iterator[tuple[str, list[ListRow]]]:
    """Active entries as (key, rows); the rows of one entry must be consecutive."""
    parsed = (
        r if isinstance(r, ListRow) else parse_row(r, n, registry)
        for n, r in enumerate(rows, start=1)
    )
    good = (r for r in parsed if isinstance(r, ListRow) or errors.append(r))
    for key, group in itertools.groupby(good, key=lambda r: r.key):
        entry = [r for r in group if r.action == "add"]
        if entry:
            yield key, entry


def _digest(entry: list[ListRow]) -> bytes:
    """What a subscriber keeps of an entry: metadata of its first row, and its signals."""
    first = entry[0]
    signals = sorted({(r.signal_type or "", r.value or "", r.quality or -1) for r in entry})
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


def _write_atomic(path: Path, data: bytes) -> None:
    fd, name = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    with open(directory / ".publish.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FeedError(f"another `feed publish` is writing to {directory}") from None
        yield


def _verified_rows(directory: Path, f: FeedFile, registry: Registry) -> Iterator[ListRow]:
    """A file of our own feed, checked against the manifest as it is read."""
    where, sha, size, errors = str(directory / f.name), hashlib.sha256(), 0, []
    try:
        with open(directory / f.name, "rb") as stream:
            for line in stream:
                sha.update(line)
                size += len(line)
            stream.seek(0)
            _check_file(f, size, sha.hexdigest(), where)
            yield from read_jsonl(stream, registry, errors)
    except FileNotFoundError:
        raise FeedRejected(f"{where} is listed in the manifest but missing", "missing") from None
    if errors:
        raise FeedRejected(f"{where}: {errors[0]} ({len(errors)} bad row(s))", "malformed")


def _published_state(directory: Path, m: Manifest, registry: Registry) -> dict[str, bytes]:
    """Entry key -> digest, as a subscriber at ``m.version`` has them."""
    errors: list[RowError] = []
    rows = _verified_rows(directory, m.snapshot, registry)
    state = {key: _digest(entry) for key, entry in _entries(rows, registry, errors)}
    for delta in m.deltas:
        if delta.version > m.snapshot.version:
            for key, group in itertools.groupby(
                _verified_rows(directory, delta, registry), key=lambda r: r.key
            ):
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
    """Publish the bank's active ``rows`` (as ``Store.export_rows`` yields them: the rows of
    one entry consecutive) as the next version of the feed in ``directory``.

    Writes a delta against the previous version, a full snapshot every ``snapshot_every``
    versions, then the signed manifest, last and atomically. Unchanged rows renew the
    manifest's dates only. ``previous_keys`` verify a manifest signed before a key rotation.
    """
    validate_bank_name(feed)
    if snapshot_every < 1 or keep_deltas < 0 or valid_for <= timedelta(0):
        raise InvalidValue("snapshot_every must be >= 1, keep_deltas >= 0, valid_for > 0")
    registry = registry or default_registry()
    now = now or datetime.now(UTC)
    directory.mkdir(parents=True, exist_ok=True)
    with _locked(directory):
        for stale in directory.glob(".tmp-*"):  # left by a publish that crashed
            stale.unlink()
        try:
            previous = _previous(directory, [key.public_key(), *previous_keys], feed)
            state = _published_state(directory, previous, registry) if previous else {}
        except FeedRejected as e:
            raise FeedRejected(f"{e.message}; nothing was published", e.reason) from None
        version = previous.version + 1 if previous else 1
        due = previous is None or version - previous.snapshot.version >= snapshot_every
        writers = {"snapshot": _FileWriter(directory, "snapshot", version) if due else None}
        writers["delta"] = _FileWriter(directory, "delta", version) if previous else None
        try:
            counts = _write_version(rows, state, writers, registry)
            if previous and not any(counts):
                for w in writers.values():
                    w and w.discard()
                m = replace(previous, key_id=key_id(key.public_key()), created_at=now,
                            expires_at=now + valid_for)  # fmt: skip
                _write_atomic(directory / MANIFEST, seal(key, m.to_bytes()))
                return PublishReport(feed, m.version, False, expires_at=_timestamp(m.expires_at))
            files = {kind: w.finish() for kind, w in writers.items() if w is not None}
        except BaseException:
            for w in writers.values():
                if w is not None and not w.out.closed:
                    w.discard()
            raise
        snapshot = files.get("snapshot") or (previous.snapshot if previous else None)
        assert snapshot is not None
        deltas = [*(previous.deltas if previous else ()), *([files["delta"]] if "delta" in files else [])]
        oldest = min(snapshot.version, version - keep_deltas)
        m = Manifest(feed, key_id(key.public_key()), version, now, now + valid_for, snapshot,
                     tuple(d for d in deltas if d.version > oldest))  # fmt: skip
        _write_atomic(directory / MANIFEST, seal(key, m.to_bytes()))
        _prune(directory, m, previous)
    return PublishReport(
        feed, version, True, *counts, snapshot=files["snapshot"].name if "snapshot" in files else None,
        delta=files["delta"].name if "delta" in files else None, expires_at=_timestamp(m.expires_at),
    )


def _previous(directory: Path, keys: list[Ed25519PublicKey], feed: str) -> Manifest | None:
    path = directory / MANIFEST
    if not path.exists():
        return None
    m = _verify(path.read_bytes(), trusted_keys(keys), str(path))
    if m.feed != feed:
        raise InvalidValue(f"{directory} holds feed {m.feed!r}, not {feed!r}")
    return m


def _write_version(
    rows: Iterable[Mapping[str, Any]], state: dict[str, bytes],
    writers: Mapping[str, _FileWriter | None], registry: Registry,
) -> tuple[int, int, int]:  # fmt: skip
    """Stream the entries into the snapshot and delta writers; (added, updated, retracted)."""
    snapshot, delta = writers["snapshot"], writers["delta"]
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
        raise ListRejected(f"rows of feed {writers}", errors)
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
