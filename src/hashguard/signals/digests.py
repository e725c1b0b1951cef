"""Cryptographic digests of the raw bytes: exact matching only."""

from __future__ import annotations

from hashguard.signals.base import DigestType


class Md5(DigestType):
    name = "md5"
    nbytes = 16


class Sha1(DigestType):
    name = "sha1"
    nbytes = 20


class Sha256(DigestType):
    name = "sha256"
    nbytes = 32


DIGESTS = (Md5(), Sha1(), Sha256())
