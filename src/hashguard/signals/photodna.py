"""PhotoDNA as an opaque 144-byte signal.

hashguard does not compute PhotoDNA (the algorithm is licensed); it stores, exports and
exact-matches the hashes that IWF- and NCMEC-style lists carry, so those lists import without
loss. Fuzzy PhotoDNA matching belongs in a licensed plugin registering its own signal type.
Lists write PhotoDNA as hex (288 digits), base64 (192 characters) or 144 comma-separated
byte values; the canonical form is hex.
"""

from __future__ import annotations

import base64
import binascii

from hashguard.errors import InvalidSignal
from hashguard.signals.base import HexDigestType

NBYTES = 144


class PhotoDna(HexDigestType):
    name = "photodna"
    nbytes = NBYTES

    def parse(self, raw: str) -> str:
        text = raw.strip()
        if "," in text:
            return self._from_decimal(text)
        if len(text) == 2 * NBYTES:
            return super().parse(text)
        try:
            data = base64.b64decode(text, validate=True)
        except binascii.Error:
            data = b""
        if len(data) != NBYTES:
            raise InvalidSignal(
                "photodna must be 144 bytes as 288 hex digits, 192 base64 characters "
                "or 144 comma-separated numbers"
            )
        return data.hex()

    def _from_decimal(self, text: str) -> str:
        parts = text.split(",")
        if len(parts) != NBYTES:
            raise InvalidSignal(f"photodna must have 144 comma-separated numbers, got {len(parts)}")
        try:
            values = [int(p) for p in parts]
        except ValueError:
            raise InvalidSignal("photodna comma-separated values must be integers") from None
        if any(not 0 <= v <= 255 for v in values):
            raise InvalidSignal("photodna comma-separated values must be between 0 and 255")
        return bytes(values).hex()
