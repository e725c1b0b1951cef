"""Feed trust: Ed25519 keys, the signed manifest, and the checks it must pass before a
subscriber at a given checkpoint acts on it.

A feed's ``feed.json`` is an envelope holding the manifest as a string plus an Ed25519
signature over its exact bytes, so manifest and signature are always fetched together (a
separate signature file could be cached or replaced apart from the manifest). The manifest
names every other file of the feed with its SHA-256 and size, so it alone is signed.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hashguard.banks.model import validate_name
from hashguard.errors import FeedRejected, InvalidValue
from hashguard.feeds.signing import key_id

FORMAT = "hashguard-feed/1"
# What is signed is this prefix + the manifest bytes: a feed key's signature can never be
# passed off as one over anything else, nor another signature by the same key as a feed's.
SIGNING_CONTEXT = b"hashguard-feed-manifest-v1\n"
Kind = Literal["snapshot", "delta"]
FILE_MODE = 0o644  # feed files are for a web server to read; the directory controls access
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


# -- the manifest ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedFile:
    kind: Kind
    version: int
    name: str
    sha256: str
    size: int
    rows: int

    def check(self, size: int, sha256: str, where: str) -> None:
        """Reject a copy of this file that is not byte for byte the one the manifest names."""
        if size != self.size:
            problem = "truncated" if size < self.size else "longer than the manifest says"
            raise FeedRejected(f"{where} is {problem}: {size} bytes, expected {self.size}", "size")
        if sha256 != self.sha256:
            raise FeedRejected(f"{where} does not match its SHA-256 in the manifest", "digest")


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
            "created_at": timestamp(self.created_at),
            "expires_at": timestamp(self.expires_at),
            "snapshot": file(self.snapshot),
            "deltas": [file(d) for d in self.deltas],
        }
        return (json.dumps(doc, indent=1) + "\n").encode()

    def file(self, kind: Kind, version: int) -> FeedFile | None:
        candidates = (self.snapshot,) if kind == "snapshot" else self.deltas
        return next((f for f in candidates if f.version == version), None)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _field(doc: Mapping[str, Any], name: str, kind: type) -> Any:
    value = doc.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{name!r} must be a {kind.__name__}, not {value!r}")
    if isinstance(value, int) and value < 0:
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
    version, size, rows = (_field(doc, k, int) for k in ("version", "size", "rows"))
    return FeedFile(kind, version, name, sha, size, rows)


def parse_manifest(raw: bytes) -> Manifest:
    """A manifest from its bytes. Raises ValueError saying what is wrong."""
    doc = json.loads(raw, object_pairs_hook=no_duplicate_keys)
    if not isinstance(doc, dict):
        raise ValueError("expected a JSON object")
    times = [datetime.fromisoformat(_field(doc, n, str)) for n in ("created_at", "expires_at")]
    if any(t.tzinfo is None for t in times):
        raise ValueError("created_at and expires_at need a time zone")
    try:
        feed = validate_name(_field(doc, "feed", str), "feed")
    except InvalidValue as e:
        raise ValueError(e.message) from None
    m = Manifest(
        feed=feed,
        key_id=_field(doc, "key_id", str),
        version=_field(doc, "version", int),
        created_at=times[0],
        expires_at=times[1],
        snapshot=_parse_file(doc.get("snapshot"), "snapshot"),
        deltas=tuple(_parse_file(d, "delta") for d in _field(doc, "deltas", list)),
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


# -- the signed envelope ---------------------------------------------------------------------


def seal(key: Ed25519PrivateKey, manifest: bytes) -> bytes:
    """The bytes of ``feed.json``: the manifest signed with ``key``."""
    envelope = {
        "format": FORMAT,
        "key_id": key_id(key.public_key()),
        "signature": base64.b64encode(key.sign(SIGNING_CONTEXT + manifest)).decode(),
        "manifest": manifest.decode("utf-8"),
    }
    return (json.dumps(envelope, indent=1, ensure_ascii=False) + "\n").encode()


def _open_envelope(data: bytes) -> tuple[str, bytes, bytes]:
    """(key id, signature, manifest bytes) of ``feed.json``; ValueError says what is wrong."""
    doc = json.loads(data, object_pairs_hook=no_duplicate_keys)
    if not isinstance(doc, dict):
        raise ValueError("expected a JSON object")
    if doc.get("format") != FORMAT:
        raise ValueError(f"format is {doc.get('format')!r}, not {FORMAT!r} (upgrade hashguard?)")
    key, signature, manifest = (_field(doc, n, str) for n in ("key_id", "signature", "manifest"))
    try:
        return key, base64.b64decode(signature, validate=True), manifest.encode("utf-8")
    except binascii.Error:
        raise ValueError("'signature' is not base64") from None


def no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """JSON objects with a key twice are refused: readers may disagree on which one counts."""
    out: dict[str, object] = {}
    for name, value in pairs:
        if name in out:
            raise ValueError(f"key {name!r} appears twice")
        out[name] = value
    return out


# -- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """How far a subscriber has applied a feed: the file that brought it to ``version``."""

    feed: str | None = None
    version: int = 0
    kind: Kind | None = None
    sha256: str | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        """Raises ValueError if ``text`` is not what :meth:`to_json` writes."""
        try:
            doc = json.loads(text)
            cp = cls(doc["feed"], int(doc["version"]), doc["kind"], doc["sha256"])
        except (KeyError, TypeError) as e:
            raise ValueError(f"not a feed checkpoint: {e!r}") from None
        if cp.kind not in (None, "snapshot", "delta"):
            raise ValueError(f"unknown kind {cp.kind!r}")
        return cp


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, whole."""
    fd, name = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
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
        os.fsync(dir_fd)  # so the rename itself survives a power cut
    finally:
        os.close(dir_fd)


def verify_manifest(
    data: bytes, keys: Mapping[str, Ed25519PublicKey], where: str, *,
    checkpoint: Checkpoint | None = None, feed: str | None = None, now: datetime | None = None,
) -> Manifest:  # fmt: skip
    """The manifest in ``feed.json`` bytes, if signed by one of ``keys``. With a checkpoint:
    also for the expected feed (``feed``, else the checkpoint's), not expired, not older
    than the checkpoint and agreeing with the file the checkpoint applied."""
    try:
        signer, signature, raw = _open_envelope(data)
    except (ValueError, RecursionError) as e:
        raise FeedRejected(f"{where} is malformed: {e}", "malformed") from None
    key = keys.get(signer)
    if key is None:
        raise FeedRejected(
            f"{where} is signed by key {signer}, which is not trusted (trusted: "
            f"{', '.join(sorted(keys)) or 'none'}); if the publisher rotated its key, add its "
            "new public key",
            "unknown_key",
        )
    try:
        key.verify(signature, SIGNING_CONTEXT + raw)
    except InvalidSignature:
        raise FeedRejected(
            f"{where}: the signature does not verify with key {signer}: the manifest was "
            "altered, or not signed by the publisher",
            "signature",
        ) from None
    try:
        m = parse_manifest(raw)
    except (ValueError, RecursionError) as e:  # signed, yet malformed: a publisher's bug
        raise FeedRejected(f"{where} holds a malformed manifest: {e}", "malformed") from None
    if m.key_id != signer:
        raise FeedRejected(f"{where} names key {m.key_id} inside, not its signer", "malformed")
    if checkpoint is not None:
        _check_fresh(m, checkpoint, feed or checkpoint.feed, now or datetime.now(UTC), where)
    return m


def _check_fresh(m: Manifest, cp: Checkpoint, feed: str | None, now: datetime, where: str) -> None:
    if feed is not None and m.feed != feed:
        raise FeedRejected(f"{where} is feed {m.feed!r}, not {feed!r}", "wrong_feed")
    if now > m.expires_at:
        raise FeedRejected(
            f"{where} (version {m.version}) expired at {timestamp(m.expires_at)}: the "
            "publisher stopped renewing it, or an old copy is being replayed",
            "expired",
        )
    if m.version < cp.version:
        raise FeedRejected(
            f"{where} is version {m.version}, older than version {cp.version} already "
            "applied: an old copy is being replayed, or the publisher went back in time",
            "rollback",
        )
    # The file that brought the subscriber to its version, if still listed, must be the same:
    # else later deltas would be applied to a state the publisher never had.
    applied = m.file(cp.kind, cp.version) if cp.kind else None
    if applied is not None and applied.sha256 != cp.sha256:
        raise FeedRejected(
            f"{where}: version {cp.version} differs from the one already applied: the "
            "publisher rewrote its history; ask them, or reset the source (`hashguard sources "
            "reset NAME`) to resync from its snapshot",
            "history",
        )
