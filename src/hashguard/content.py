"""Content bytes -> every signal hashguard computes for them.

Digests (md5, sha1, sha256) are taken of any content. If it decodes as an image, PDQ is
computed too, with the 8 dihedral variants (rotations and flips) used for matching, and, when
the image has uniform borders, the variants of the trimmed picture as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from hashguard.errors import MediaError
from hashguard.media.borders import border_box
from hashguard.media.image import DEFAULT_LIMITS, PDQ_SIDE, DecodeLimits, load_image
from hashguard.signals.digests import digest_bytes
from hashguard.signals.pdq import LOW_QUALITY, pdq_dihedral


@dataclass(frozen=True)
class ContentSignals:
    digests: dict[str, str]
    pdq: bytes | None = None
    pdq_quality: int | None = None
    # Hashes the index is asked about: the dihedral variants, then those of the trimmed image.
    pdq_queries: tuple[bytes, ...] = ()
    media_error: str | None = None
    trimmed: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def low_quality(self) -> bool:
        return self.pdq_quality is not None and self.pdq_quality < LOW_QUALITY

    def as_dict(self) -> dict[str, object]:
        """The hash output shape shared by the CLI and the HTTP API."""
        out: dict[str, object] = dict(self.digests)
        if self.pdq is not None:
            out["pdq"] = self.pdq.hex()
            out["pdq_quality"] = self.pdq_quality
            if self.low_quality:
                out["pdq_low_quality"] = True
        if self.media_error is not None:
            out["media_error"] = self.media_error
        return out


def _trimmed_variants(im: Image.Image) -> list[bytes]:
    box = border_box(np.asarray(im.convert("L")))
    if box is None:
        return []
    inner = im.crop(box)
    if inner.width > PDQ_SIDE or inner.height > PDQ_SIDE:
        inner = inner.resize((PDQ_SIDE, PDQ_SIDE), Image.Resampling.BILINEAR)
    hashes, _ = pdq_dihedral(np.asarray(inner))
    return hashes


def hash_content(
    data: bytes, limits: DecodeLimits = DEFAULT_LIMITS, *, variants: bool = True
) -> ContentSignals:
    """Every signal of ``data``. A non-image is not an error here: it still has digests."""
    digests = digest_bytes(data)
    try:
        im = load_image(data, limits)
    except MediaError as e:
        return ContentSignals(digests, media_error=e.message)
    hashes, quality = pdq_dihedral(np.asarray(im))
    queries = list(hashes) if variants else hashes[:1]
    trimmed = _trimmed_variants(im) if variants else []
    return ContentSignals(
        digests,
        pdq=hashes[0],
        pdq_quality=quality,
        pdq_queries=tuple(queries + trimmed),
        trimmed=bool(trimmed),
    )
