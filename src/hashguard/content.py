"""Content bytes -> the signal of every registered type that hashes content.

Each signal type says what it hashes (:attr:`~hashguard.signals.base.SignalType.hashes`):
any bytes (the digests), or a decoded image (PDQ). The image is decoded once, on the first
type that asks, within the decoding limits; content that is no image still has its digests.
The same path hashes a ``/v1/match`` upload, an entry's upload and the CLI's files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from hashguard.errors import MediaError, NotAnImage, TooLarge
from hashguard.media.budget import BatchTally
from hashguard.media.files import check_regular, read_file
from hashguard.media.image import DEFAULT_LIMITS, DecodeLimits, decode
from hashguard.media.video import (
    DEFAULT_VIDEO,
    Video,
    VideoLimits,
    VideoOptions,
    looks_like_video,
)
from hashguard.signals.base import Hashed, HashOptions
from hashguard.signals.registry import Registry, shared_registry

DIGESTS = ("md5", "sha1", "sha256")
__all__ = ["DEFAULT_VIDEO", "ContentSignals", "VideoOptions", "content_source", "hash_content"]


@dataclass(frozen=True)
class ContentSignals:
    hashed: dict[str, Hashed]  # by signal type, in the registry's hashing order
    media_error: str | None = None
    # The content is in no image format hashguard reads (a video, a PDF): it was never
    # meant to have a PDQ, unlike an image that failed to decode.
    not_image: bool = False

    @property
    def trimmed(self) -> bool:
        return any(h.trimmed for h in self.hashed.values())

    def value(self, signal_type: str) -> str | None:
        found = self.hashed.get(signal_type)
        return found.value if found is not None else None

    # Shorthands for the built-in types, for callers that want one of them by name.

    @property
    def digests(self) -> dict[str, str]:
        return {n: h.value for n, h in self.hashed.items() if h.of == "bytes"}

    @property
    def pdq(self) -> bytes | None:
        value = self.value("pdq")
        return bytes.fromhex(value) if value is not None else None

    @property
    def pdq_quality(self) -> int | None:
        found = self.hashed.get("pdq")
        return found.quality if found is not None else None

    @property
    def pdq_queries(self) -> tuple[bytes, ...]:
        found = self.hashed.get("pdq")
        return tuple(found.queries) if found is not None else ()

    @property
    def low_quality(self) -> bool:
        return any(h.low_quality for h in self.hashed.values())

    def listed(self) -> list[tuple[str, str, int | None]]:
        """(type, value, quality) of every signal an entry of this content holds."""
        out = []
        for h in self.hashed.values():
            out.append((h.type, h.value, h.quality))
            out.extend((h.type, value, h.quality) for value in h.also)
        return out

    def as_dict(self) -> dict[str, object]:
        """The hash output shape shared by the CLI and the HTTP API."""
        out: dict[str, Any] = {}
        for hashed in self.hashed.values():
            out.update(hashed.output())
        if self.media_error is not None:
            out["media_error"] = self.media_error
        return out


class _Media:
    """The content (bytes, or a file read in pieces), decoded on first use (once, for every
    type): as an image, or as a video when its first bytes are a video container's."""

    def __init__(
        self,
        source: bytes | Path,
        limits: DecodeLimits,
        video_limits: VideoLimits,
        batch: BatchTally | None,
    ) -> None:
        self.source = source
        self._limits = limits
        self._video_limits = video_limits
        self._batch = batch
        self._image: tuple[Image.Image, bool] | None = None
        self._video: Video | None = None
        self._digests: dict[str, str] = {}
        self.error: MediaError | None = None
        self.is_video = looks_like_video(self._head())

    def _head(self) -> bytes:
        if isinstance(self.source, bytes):
            return self.source[:512]
        with open(self.source, "rb") as f:
            return f.read(512)

    @property
    def data(self) -> bytes:
        if isinstance(self.source, bytes):
            return self.source
        return self.source.read_bytes()

    def chunks(self) -> Iterator[bytes]:
        if isinstance(self.source, bytes):
            yield self.source
            return
        with open(self.source, "rb") as f:
            while chunk := f.read(1 << 20):
                yield chunk

    def digest(self, name: str) -> str:
        if name not in self._digests:
            # The digests hashguard knows, in one pass over a file however many ask.
            hashers = {n: hashlib.new(n) for n in {name, *DIGESTS}}
            for chunk in self.chunks():
                for h in hashers.values():
                    h.update(chunk)
            self._digests.update({n: h.hexdigest() for n, h in hashers.items()})
        return self._digests[name]

    def image(self) -> tuple[Image.Image, bool]:
        if self.error is not None:
            raise self.error
        if self.is_video:
            raise NotAnImage("a video, not an image")
        if self._image is None:
            try:
                self._image = decode(self._bytes(), self._limits, self._batch)
            except MediaError as e:
                self.error = e
                raise
        return self._image

    def _bytes(self) -> bytes:
        if isinstance(self.source, bytes):
            return self.source
        size = self.source.stat().st_size
        if size > self._limits.max_bytes:
            raise TooLarge(f"file is {size} bytes; the limit is {self._limits.max_bytes}")
        return self.source.read_bytes()

    def video(self) -> Video | None:
        if not self.is_video:
            return None
        if self._video is None:
            self._video = Video(self.source, self._video_limits)
        return self._video


def content_source(path: Path, limits: DecodeLimits, video_limits: VideoLimits) -> bytes | Path:
    """What :func:`hash_content` is given for a file: a video's path (it is decoded from the
    file, never read whole), else the file's bytes (within the image limit). Devices, FIFOs
    and sockets are refused unread (:func:`~hashguard.media.files.read_file`)."""
    check_regular(path)
    with open(path, "rb") as f:
        head = f.read(512)
    if looks_like_video(head):
        size = path.stat().st_size
        if size > video_limits.max_bytes:
            raise TooLarge(f"video is {size:,} bytes; the limit is {video_limits.max_bytes:,}")
        return path
    return read_file(path, limits)


def hash_content(
    data: bytes | Path,
    limits: DecodeLimits = DEFAULT_LIMITS,
    *,
    variants: bool = True,
    exact_orientations: bool = False,
    batch: BatchTally | None = None,
    registry: Registry | None = None,
    video: VideoOptions = DEFAULT_VIDEO,
) -> ContentSignals:
    """Every signal of ``data`` (bytes, or a file: a video is read from it, never whole
    into memory): with ``variants``, as a query (rotations, trimmed borders, sparser video
    frames), else as content to list. ``batch`` counts the decoding bytes of one request's
    images together."""
    registry = registry or shared_registry()
    options = HashOptions(
        query=variants,
        exact_orientations=exact_orientations,
        video_query_every=video.query_every,
        video_list_every=video.list_every,
    )
    media = _Media(data, limits, video.limits, batch)
    hashed: dict[str, Hashed] = {}
    for signal_type in registry.hashers():
        try:
            found = signal_type.hash(media, options)
        except NotAnImage as e:
            if not media.is_video:
                media.error = media.error or e
            continue
        except MediaError as e:
            media.error = media.error or e  # the types that read bytes still hash
            continue
        if found is not None:
            hashed[signal_type.name] = found
    error = media.error
    return ContentSignals(
        hashed,
        media_error=error.message if error is not None else None,
        not_image=isinstance(error, NotAnImage),
    )
