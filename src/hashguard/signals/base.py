"""What a signal is, and the interface every signal type implements."""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from typing import ClassVar, Literal

from hashguard.errors import InvalidSignal

Matching = Literal["exact", "hamming", "keyword"]


@dataclass(frozen=True)
class Signal:
    """One fingerprint of one piece of content, in its canonical text form."""

    type: str
    value: str
    quality: int | None = None  # PDQ's 0-100 score; None for types without one


class SignalType:
    """Parses, validates and compares one kind of signal.

    Subclasses set ``name`` and ``matching``; ``exact`` types are matched by equality of the
    canonical value, ``hamming`` types by bit distance of the decoded bytes, ``keyword``
    types by finding their terms in message text.
    """

    name: ClassVar[str]
    matching: ClassVar[Matching] = "exact"
    default_threshold: ClassVar[int] = 0

    def parse(self, raw: str) -> str:
        """Return the canonical form of ``raw`` or raise :class:`InvalidSignal`."""
        raise NotImplementedError

    def to_bytes(self, value: str) -> bytes:
        """The canonical value as bytes (what indexes store)."""
        return value.encode()

    def from_bytes(self, data: bytes) -> str:
        return data.decode()


class HexDigestType(SignalType):
    """A fixed-length binary hash written as hex, e.g. MD5 (16 bytes)."""

    nbytes: ClassVar[int]

    def parse(self, raw: str) -> str:
        value = raw.strip().lower()
        if len(value) != 2 * self.nbytes:
            raise InvalidSignal(
                f"{self.name} must be {2 * self.nbytes} hex digits, got {len(value)} characters"
            )
        try:
            data = bytes.fromhex(value)
        except ValueError:
            data = b""
        if len(data) != self.nbytes:  # fromhex also skips spaces between digit pairs
            raise InvalidSignal(f"{self.name} must be hexadecimal (0-9, a-f)")
        return value

    def to_bytes(self, value: str) -> bytes:
        return bytes.fromhex(value)

    def from_bytes(self, data: bytes) -> str:
        return binascii.hexlify(data).decode()
