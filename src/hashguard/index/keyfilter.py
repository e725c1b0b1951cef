"""A Bloom filter over an exact index's keys: most lookups are misses, and this says so in
a few Python operations where a bisection of the sorted keys costs several numpy calls.

A message's URLs give a dozen or more keys to look up in each URL index, almost none of
them listed; through numpy that is ~20 us per index, through this ~0.3 us per key. The keys
are digests (of URL expressions, files), so their first bytes are already uniform and serve
as the two hash functions. Built once for the base keys of an index (a snapshot holds it);
keys added later live in the index's tail dict, which is looked up anyway.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

# A key's two slots: its first and its second four bytes, little-endian, in one call.
_SLOTS = struct.Struct("<II").unpack_from
BITS_PER_KEY = 32  # two probes: ~0.5% false positives
MIN_BITS, MAX_BITS = 1 << 16, 1 << 28  # 8 KB to 32 MB


class KeyFilter:
    __slots__ = ("_bits", "_mask", "array")

    def __init__(self, bits: np.ndarray) -> None:
        # The slot mask assumes a power-of-two size: any other would hide listed keys.
        if bits.dtype != np.uint8 or len(bits) * 8 < MIN_BITS or len(bits) & (len(bits) - 1):
            raise ValueError(f"not a key filter: {len(bits)} {bits.dtype} values")
        self.array = bits
        self._bits = bits.data  # indexing a memoryview gives a plain int, quickly
        self._mask = len(bits) * 8 - 1

    @classmethod
    def build(cls, keys: np.ndarray) -> KeyFilter:
        """A filter for the fixed-width byte strings ``keys`` (dtype ``S{width}``, width >= 8)."""
        size = MIN_BITS
        while size < len(keys) * BITS_PER_KEY and size < MAX_BITS:
            size *= 2
        bits = np.zeros(size // 8, np.uint8)
        if len(keys):
            # The first and the second four bytes of each key are its two slots. Sorted, the
            # slots of one byte are neighbours and are OR-ed together in one pass (2x sooner
            # than np.bitwise_or.at, and a sort lets other threads run).
            head = np.ascontiguousarray(keys.view(np.uint8).reshape(len(keys), -1)[:, :8])
            slots = np.concatenate(head.view("<u4").T) & np.uint32(size - 1)
            slots.sort()
            byte = slots >> 3
            starts = np.flatnonzero(np.concatenate([[True], byte[1:] != byte[:-1]]))
            bit = np.left_shift(np.uint8(1), (slots & 7).astype(np.uint8))
            bits[byte[starts]] = np.bitwise_or.reduceat(bit, starts)
        return cls(bits)

    def __contains__(self, key: bytes) -> bool:
        return bool(self.passing([key]))

    def passing(self, keys: Sequence[bytes]) -> list[int]:
        """Positions in ``keys`` of those that may be in the filter (one call for many keys:
        a message's URLs give a dozen)."""
        bits, mask = self._bits, self._mask
        out = []
        for i, (a, b) in enumerate(map(_SLOTS, keys)):
            a &= mask
            if bits[a >> 3] >> (a & 7) & 1:
                b &= mask
                if bits[b >> 3] >> (b & 7) & 1:
                    out.append(i)
        return out
