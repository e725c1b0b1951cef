"""Subscribing to a feed: fetch the signed manifest, check it against the subscriber's
checkpoint, download and verify every file needed, then apply them version by version.

A feed lives in a directory, at a file:// URL or at an http(s):// URL. See docs/feeds.md.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from http.client import HTTPMessage
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hashguard.errors import (
    FeedRejected,
    FeedUnavailable,
    InvalidValue,
    RowError,
)
from hashguard.feeds.manifest import (
    Checkpoint,
    FeedFile,
    Manifest,
    verify_manifest,
)
from hashguard.lists.jsonl_format import read_jsonl
from hashguard.lists.rows import ListRow, parse_row
from hashguard.signals.registry import Registry, default_registry

MANIFEST = "feed.json"
MANIFEST = "feed.json"
_OURS = re.compile(r"^(snapshot|delta)-\d{10}-[0-9a-f]{16}\.jsonl$")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    manifest_bytes: int = 1 << 20
    file_bytes: int = 4 << 30
    timeout: float = 60.0  # seconds an HTTP request may wait for the server


# -- where a feed lives: a directory, a file:// URL or an http(s):// URL --------------------


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Keep credentials on the origin they were given for, and HTTPS from being downgraded."""

    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
        headers: HTTPMessage, newurl: str,
    ) -> urllib.request.Request | None:  # fmt: skip
        if req.full_url.startswith("https:") and not newurl.startswith("https:"):
            raise FeedUnavailable(f"{req.full_url} redirects to {newurl}: refusing to leave HTTPS")
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != req.host:
            for name, _ in req.header_items():
                new.remove_header(name)
        return new


_OPENER = urllib.request.build_opener(_Redirects)


@dataclass(frozen=True)
class _Source:
    base: str  # a directory, or an http(s) URL ending in "/"
    manifest: str  # its name in base
    headers: tuple[tuple[str, str], ...] = ()
    timeout: float = 60.0

    @property
    def http(self) -> bool:
        return self.base.startswith(("http://", "https://"))

    def url(self, name: str) -> str:
        return urllib.parse.urljoin(self.base, name) if self.http else os.path.join(self.base, name)

    @contextmanager
    def open(self, name: str, *, fresh: bool = False) -> Iterator[IO[bytes]]:
        url = self.url(name)
        try:
            if not self.http:
                with open(url, "rb") as f:
                    yield f
                return
            headers = dict(self.headers) | ({"Cache-Control": "no-cache"} if fresh else {})
            with _OPENER.open(
                urllib.request.Request(url, headers=headers), None, self.timeout
            ) as r:
                yield r
        except urllib.error.HTTPError as e:
            raise FeedUnavailable(f"{url}: HTTP {e.code} {e.reason}") from None
        except urllib.error.URLError as e:
            raise FeedUnavailable(f"{url}: {e.reason}") from None
        except OSError as e:  # also timeouts and connections dropped while reading
            raise FeedUnavailable(f"{url}: {e.strerror or e}") from None


def _source(location: str, headers: Mapping[str, str], timeout: float) -> _Source:
    """``location`` is the feed's directory, or its feed.json, as a path or URL."""
    parts = urllib.parse.urlsplit(location)
    if parts.scheme in ("http", "https"):
        base, _, name = (
            location.rpartition("/") if location.endswith(".json") else (location, "", "")
        )
        return _Source(base.rstrip("/") + "/", name or MANIFEST, tuple(headers.items()), timeout)
    if parts.scheme == "file":
        location = urllib.request.url2pathname(parts.path)
    elif len(parts.scheme) > 1:  # one letter is a Windows drive
        raise InvalidValue(
            f"cannot fetch a feed from {location!r}: use https://, file:// or a path"
        )
    if location.endswith(".json"):
        return _Source(os.path.dirname(location) or ".", os.path.basename(location))
    return _Source(location, MANIFEST)


def _download(src: _Source, f: FeedFile, dest: Path, limits: Limits) -> None:
    where = src.url(f.name)
    if f.size > limits.file_bytes:
        raise FeedRejected(
            f"{where} is {f.size} bytes, over the {limits.file_bytes}-byte limit", "too_large"
        )
    sha, size = hashlib.sha256(), 0
    with src.open(f.name) as stream, open(dest, "wb") as out:
        # Never read more than one byte past the declared size: a server cannot fill the disk.
        while size <= f.size and (chunk := stream.read(min(_CHUNK, f.size - size + 1))):
            size += len(chunk)
            sha.update(chunk)
            out.write(chunk)
    f.check(size, sha.hexdigest(), where)


# -- subscribing -----------------------------------------------------------------------------


def fetch_manifest(
    source: str, keys: Mapping[str, Ed25519PublicKey], checkpoint: Checkpoint, *,
    feed: str | None = None, headers: Mapping[str, str] | None = None,
    limits: Limits = Limits(), now: datetime | None = None,
) -> Manifest:  # fmt: skip
    """The feed's manifest, verified: signed by one of ``keys``, for the expected feed
    (``feed``, else the checkpoint's), not expired, not older than the checkpoint."""
    src = _source(source, headers or {}, limits.timeout)
    where = src.url(src.manifest)
    with src.open(src.manifest, fresh=True) as stream:
        data = stream.read(limits.manifest_bytes + 1)
    if len(data) > limits.manifest_bytes:
        raise FeedRejected(f"{where} is over {limits.manifest_bytes} bytes", "too_large")
    return verify_manifest(data, keys, where, checkpoint=checkpoint, feed=feed, now=now)


@dataclass(frozen=True)
class Step:
    """One version to apply, from a downloaded and verified file.

    A snapshot step replaces the bank's contents: its rows are every entry of the feed,
    then retractions of the bank's other active entries. Import a step's rows in one
    transaction, then save its checkpoint: re-applying a step changes nothing, so a crash
    between the two loses nothing and duplicates nothing.
    """

    feed: str
    file: FeedFile
    path: Path
    source: str  # the URL, for messages

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
        """The rows to import; bad ones go to ``errors``. A snapshot step needs ``current``,
        the bank's rows as ``Store.export_rows`` yields them, read here before returning."""
        registry = registry or default_registry()
        if self.file.kind == "delta":
            return self._read(errors, registry)
        if current is None:
            raise ValueError("a snapshot step needs the bank's current rows to retract others")
        return self._replace(_keys(current, registry), errors, registry)

    def _read(self, errors: list[RowError], registry: Registry) -> Iterator[ListRow]:
        with open(self.path, "rb") as f:
            yield from read_jsonl(f, registry, errors)

    def _replace(self, stale: set[str], errors: list[RowError], reg: Registry) -> Iterator[ListRow]:
        last = 0
        for row in self._read(errors, reg):
            stale.discard(row.key)
            last = row.line
            yield row
        for line, key in enumerate(sorted(stale), start=last + 1):
            yield ListRow(line, "retract", key, None, None)


def _keys(rows: Iterable[Mapping[str, Any]], registry: Registry) -> set[str]:
    """Keys of the active entries among exported rows (their ``id`` is the entry's key)."""
    keys = set()
    for r in rows:
        if r.get("action") != "retract":
            row_id = str(r.get("id") or "").strip()
            parsed = parse_row(r, 0, registry) if not row_id else None
            keys.add(row_id or (parsed.key if isinstance(parsed, ListRow) else ""))
    keys.discard("")
    return keys


@dataclass(frozen=True)
class Sync:
    manifest: Manifest
    steps: tuple[Step, ...]  # empty when the subscriber is up to date


def plan(m: Manifest, checkpoint: Checkpoint) -> list[FeedFile]:
    """The files that bring a subscriber at ``checkpoint`` to ``m.version``: the deltas after
    it if the manifest still lists them all, else (or if smaller) the snapshot and the deltas
    after that."""
    if checkpoint.version >= m.version:
        return []
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
    """Fetch and verify the manifest and every file the subscriber needs before anything is
    applied, then yield the steps to apply, in order. Downloads are deleted on exit."""
    with tempfile.TemporaryDirectory(prefix="hashguard-feed-", dir=workdir) as tmp:
        try:
            m = fetch_manifest(
                source, keys, checkpoint, feed=feed, headers=headers, limits=limits, now=now
            )
            src = _source(source, headers or {}, limits.timeout)
            steps = []
            for f in plan(m, checkpoint):
                _download(src, f, Path(tmp) / f.name, limits)
                steps.append(Step(m.feed, f, Path(tmp) / f.name, src.url(f.name)))
        except FeedRejected as e:
            raise FeedRejected(f"{e.message}; nothing was applied", e.reason) from None
        yield Sync(m, tuple(steps))
