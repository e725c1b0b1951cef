"""PDQ: Meta's 256-bit perceptual image hash, computed by the reference ``pdqhash`` package.

Two hashes within 31 bits of each other are taken to be the same picture (ThreatExchange's
recommended threshold). A quality below 50 means the picture has too little detail for the
hash to be trusted (blank, tiny, flat); such hashes are flagged, never silently dropped.

A query is hashed in its 8 dihedral variants (rotations and flips) and, when the image has
uniform borders, so is the picture inside them. The variants come in two qualities. By
default they are derived from the DCT of the image as it is (``pdqhash.compute_dihedral``):
free, but a mirrored or rotated copy hashes a median 18 bits from the variant derived from
the original (PDQ's downsampling is not mirror-symmetric), so about 1 in 10 such copies land
beyond 31 bits. With ``exact_orientations`` the query's pixels are turned and each
orientation hashed on its own: the copies then come back within a few bits, for 7 more PDQ
computations per image.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pdqhash
from PIL import Image

from hashguard.index.base import SignalIndex
from hashguard.index.hamming import HammingIndex
from hashguard.media.borders import trim_boxes
from hashguard.media.image import PDQ_SIDE
from hashguard.signals.base import Hashed, HashOptions, HexDigestType, Media

LOW_QUALITY = 50
DEFAULT_THRESHOLD = 31
# The largest threshold a bank may have (docs/concepts.md#pdq-thresholds). Two random 256-bit
# hashes are within 63 bits with probability 8e-17 (within 31: 8e-38), so even against 10M
# entries a random query meets a false match less than once in a billion; beyond 64 the rate
# climbs fast (80 bits: 1e-2 a query at 10M; 128 is a coin toss). And the index, built for
# 31, probes floor(t/m) bits of each chunk: at 63 a query does ~170x the work of one at 31.
MAX_THRESHOLD = 63

# pdqhash.compute_dihedral's order; trimmed-border variants follow with a "trimmed " prefix.
DIHEDRAL = (
    "original", "rotate90", "rotate180", "rotate270",
    "flip_x", "flip_y", "flip_diagonal", "flip_antidiagonal",
)  # fmt: skip


class Pdq(HexDigestType):
    name = "pdq"
    nbytes = 32
    matching = "hamming"
    hashes = "image"
    default_threshold = DEFAULT_THRESHOLD
    max_threshold = MAX_THRESHOLD
    has_quality = True

    def new_index(self) -> SignalIndex:
        return HammingIndex(design_threshold=self.default_threshold)

    def distance(self, a: str, b: str) -> int | None:
        return hamming(bytes.fromhex(a), bytes.fromhex(b))

    def low_quality(self, quality: int | None) -> bool:
        return quality is not None and quality < LOW_QUALITY

    def hash(self, media: Media, options: HashOptions) -> Hashed | None:
        im, large = media.image()
        rgb = np.asarray(im)
        if not options.query:
            plain, quality = pdq_hash(rgb)
            return self._hashed(plain.hex(), quality)
        hashes, quality = _variants(rgb, options.exact_orientations)
        trimmed = _trimmed_variants(im, large, options.exact_orientations)
        queries = hashes + trimmed
        return self._hashed(
            hashes[0].hex(),
            quality,
            queries=tuple(queries),
            variants=tuple(_variant(i) for i in range(len(queries))),
            trimmed=bool(trimmed),
        )

    def _hashed(self, value: str, quality: int, **query: Any) -> Hashed:
        low = self.low_quality(quality)
        fields: dict[str, Any] = {"pdq": value, "pdq_quality": quality}
        if low:
            fields["pdq_low_quality"] = True
        return Hashed(
            self.name, value, quality, low_quality=low, of="image", fields=fields, **query
        )


def _variant(position: int) -> str | None:
    if position == 0:
        return None
    name = DIHEDRAL[position % len(DIHEDRAL)]
    return f"trimmed {name}" if position >= len(DIHEDRAL) else name


def _pack(bits: np.ndarray) -> bytes:
    # pdqhash gives 256 ints, most significant bit first: the reference hex order.
    return np.packbits(bits.astype(np.uint8)).tobytes()


def pdq_hash(rgb: np.ndarray) -> tuple[bytes, int]:
    """PDQ hash and quality of an ``(h, w, 3)`` uint8 RGB array."""
    bits, quality = pdqhash.compute(rgb)
    return _pack(bits), int(quality)


def pdq_dihedral(rgb: np.ndarray) -> tuple[list[bytes], int]:
    """The hashes of all 8 rotations and flips of the image, for the price of one.

    The first is the plain hash. PDQ's DCT lets the other seven be derived from the same
    coefficients, so this costs about what :func:`pdq_hash` costs.
    """
    hashes, quality = pdqhash.compute_dihedral(rgb)
    return [_pack(h) for h in hashes], int(quality)


def hamming(a: bytes, b: bytes) -> int:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


def _orientations(rgb: np.ndarray) -> list[np.ndarray]:
    """The image turned and flipped 8 ways, in ``pdqhash.compute_dihedral``'s order."""
    turned = [np.rot90(rgb, k) for k in range(4)]
    flipped = [rgb[::-1], rgb[:, ::-1], rgb.transpose(1, 0, 2), turned[2].transpose(1, 0, 2)]
    return [np.ascontiguousarray(a) for a in turned + flipped]


def _variants(rgb: np.ndarray, exact: bool) -> tuple[list[bytes], int]:
    if not exact:
        return pdq_dihedral(rgb)
    hashed = [pdq_hash(a) for a in _orientations(rgb)]
    return [h for h, _ in hashed], hashed[0][1]


def _trimmed_variants(im: Image.Image, large: bool, exact: bool) -> list[bytes]:
    hashes: list[bytes] = []
    for box in trim_boxes(np.asarray(im.convert("L"))):
        inner = im.crop(box)
        if large:  # the picture inside was large too: hash it at 512x512 like its original
            inner = inner.resize((PDQ_SIDE, PDQ_SIDE), Image.Resampling.BILINEAR)
        hashes.extend(_variants(np.asarray(inner), exact)[0])
    return hashes
