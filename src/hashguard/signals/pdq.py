"""PDQ: Meta's 256-bit perceptual image hash, computed by the reference ``pdqhash`` package.

Two hashes within 31 bits of each other are taken to be the same picture (ThreatExchange's
recommended threshold). A quality below 50 means the picture has too little detail for the
hash to be trusted (blank, tiny, flat); such hashes are flagged, never silently dropped.
"""

from __future__ import annotations

import numpy as np
import pdqhash

from hashguard.signals.base import HexDigestType

LOW_QUALITY = 50
DEFAULT_THRESHOLD = 31
# The largest threshold a bank may have (docs/concepts.md#pdq-thresholds). Two random 256-bit
# hashes are within 63 bits with probability 8e-17 (within 31: 8e-38), so even against 10M
# entries a random query meets a false match less than once in a billion; beyond 64 the rate
# climbs fast (80 bits: 1e-2 a query at 10M; 128 is a coin toss). And the index, built for
# 31, probes floor(t/m) bits of each chunk: at 63 a query does ~170x the work of one at 31.
MAX_THRESHOLD = 63


class Pdq(HexDigestType):
    name = "pdq"
    nbytes = 32
    matching = "hamming"
    default_threshold = DEFAULT_THRESHOLD


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
