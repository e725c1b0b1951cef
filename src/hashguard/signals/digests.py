"""Cryptographic digests of the raw bytes: exact matching only."""

from __future__ import annotations

import hashlib

from hashguard.signals.base import HexDigestType


class Md5(HexDigestType):
    name = "md5"
    nbytes = 16


class Sha1(HexDigestType):
    name = "sha1"
    nbytes = 20


class Sha256(HexDigestType):
    name = "sha256"
    nbytes = 32


DIGESTS = (Md5(), Sha1(), Sha256())


def digest_bytes(data: bytes) -> dict[str, str]:
    """md5, sha1 and sha256 of ``data`` as hex."""
    return {d.name: hashlib.new(d.name, data).hexdigest() for d in DIGESTS}
