"""Content bytes -> every signal hashguard computes for them.

Digests (md5, sha1, sha256) are taken of any content. If it decodes as an image, PDQ is
computed too, with the 8 dihedral variants (rotations and flips) used for matching, and, when
the image has uniform borders, the variants of the trimmed picture as well.

The dihedral variants come in two qualities. By default they are derived from the DCT of the
image as it is (``pdqhash.compute_dihedral``): free, but a mirrored or rotated copy hashes a
median 18 bits from the variant derived from the original (PDQ's downsampling is not
mirror-symmetric), so about 1 in 10 such copies land beyond 31 bits. With
``exact_orientations`` the query's pixels are turned and each orientation hashed on its own:
the copies then come back within a few bits, for 7 more PDQ computations per image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from hashguard.errors import MediaError, NotAnImage
from hashguard.media.borders import trim_boxes
from hashguard.media.budget import BatchTally
from hashguard.media.image import DEFAULT_LIMITS, PDQ_SIDE, DecodeLimits, decode
from hashguard.signals.digests import digest_bytes
from hashguard.signals.pdq import LOW_QUALITY, pdq_dihedral, pdq_hash


@dataclass(frozen=True)
class ContentSignals:
    digests: dict[str, str]
    pdq: bytes | None = None
    pdq_quality: int | None = None
    # Hashes the index is asked about: the dihedral variants, then those of the trimmed image.
    pdq_queries: tuple[bytes, ...] = ()
    media_error: str | None = None
    trimmed: bool = False
    # The content is in no image format hashguard reads (a video, a PDF): it was never
    # meant to have a PDQ, unlike an image that failed to decode.
    not_image: bool = False

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


def _trimmed_variants(im: Image.Image, large: bool, exact: bool) -> list[bytes]:
    hashes: list[bytes] = []
    for box in trim_boxes(np.asarray(im.convert("L"))):
        inner = im.crop(box)
        if large:  # the picture inside was large too: hash it at 512x512 like its original
            inner = inner.resize((PDQ_SIDE, PDQ_SIDE), Image.Resampling.BILINEAR)
        hashes.extend(_pdq_variants(np.asarray(inner), exact)[0])
    return hashes


def _orientations(rgb: np.ndarray) -> list[np.ndarray]:
    """The image turned and flipped 8 ways, in ``pdqhash.compute_dihedral``'s order."""
    turned = [np.rot90(rgb, k) for k in range(4)]
    flipped = [rgb[::-1], rgb[:, ::-1], rgb.transpose(1, 0, 2), turned[2].transpose(1, 0, 2)]
    return [np.ascontiguousarray(a) for a in turned + flipped]


def _pdq_variants(rgb: np.ndarray, exact: bool) -> tuple[list[bytes], int]:
    if not exact:
        return pdq_dihedral(rgb)
    hashed = [pdq_hash(a) for a in _orientations(rgb)]
    return [h for h, _ in hashed], hashed[0][1]


def hash_content(
    data: bytes,
    limits: DecodeLimits = DEFAULT_LIMITS,
    *,
    variants: bool = True,
    exact_orientations: bool = False,
    batch: BatchTally | None = None,
) -> ContentSignals:
    """Every signal of ``data``. A non-image is not an error here: it still has digests.
    ``batch`` counts the decoding bytes of one request's images together."""
    digests = digest_bytes(data)
    try:
        im, large = decode(data, limits, batch)
    except MediaError as e:
        return ContentSignals(digests, media_error=e.message, not_image=isinstance(e, NotAnImage))
    rgb = np.asarray(im)
    if variants:
        hashes, quality = _pdq_variants(rgb, exact_orientations)
    else:
        plain, quality = pdq_hash(rgb)
        hashes = [plain]
    queries = hashes
    trimmed = _trimmed_variants(im, large, exact_orientations) if variants else []
    return ContentSignals(
        digests,
        pdq=hashes[0],
        pdq_quality=quality,
        pdq_queries=tuple(queries + trimmed),
        trimmed=bool(trimmed),
    )
