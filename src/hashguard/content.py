"""Content bytes -> the signal of every registered type that hashes content.

Each signal type says what it hashes (:attr:`~hashguard.signals.base.SignalType.hashes`):
any bytes (the digests), or a decoded image (PDQ). The image is decoded once, on the first
type that asks, within the decoding limits; content that is no image still has its digests.
The same path hashes a ``/v1/match`` upload, an entry's upload and the CLI's files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PIL import Image

from hashguard.errors import MediaError, NotAnImage
from hashguard.media.budget import BatchTally
from hashguard.media.image import DEFAULT_LIMITS, DecodeLimits, decode
from hashguard.signals.base import Hashed, HashOptions
from hashguard.signals.registry import Registry, shared_registry


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

    def as_dict(self) -> dict[str, object]:
        """The hash output shape shared by the CLI and the HTTP API."""
        out: dict[str, Any] = {}
        for hashed in self.hashed.values():
            out.update(hashed.output())
        if self.media_error is not None:
            out["media_error"] = self.media_error
        return out


class _Media:
    """The bytes, and the image decoded on first use (once, for every type)."""

    def __init__(self, data: bytes, limits: DecodeLimits, batch: BatchTally | None) -> None:
        self.data = data
        self._limits = limits
        self._batch = batch
        self._image: tuple[Image.Image, bool] | None = None
        self.error: MediaError | None = None

    def image(self) -> tuple[Image.Image, bool]:
        if self.error is not None:
            raise self.error
        if self._image is None:
            try:
                self._image = decode(self.data, self._limits, self._batch)
            except MediaError as e:
                self.error = e
                raise
        return self._image


def hash_content(
    data: bytes,
    limits: DecodeLimits = DEFAULT_LIMITS,
    *,
    variants: bool = True,
    exact_orientations: bool = False,
    batch: BatchTally | None = None,
    registry: Registry | None = None,
) -> ContentSignals:
    """Every signal of ``data``: with ``variants``, as a query (rotations, trimmed borders),
    else as content to list. ``batch`` counts the decoding bytes of one request's images
    together."""
    registry = registry or shared_registry()
    options = HashOptions(query=variants, exact_orientations=exact_orientations)
    media = _Media(data, limits, batch)
    hashed: dict[str, Hashed] = {}
    for signal_type in registry.hashers():
        try:
            found = signal_type.hash(media, options)
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
