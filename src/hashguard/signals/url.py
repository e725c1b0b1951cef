"""URL lists: ``url`` entries are URLs or domain rules, kept as their canonical Safe Browsing
expression; ``url_sha256`` entries are the SHA-256 of such an expression, for sources that
publish hashes so that the list is not a directory of the sites it lists.

Both are matched the same way: each URL found in a message gives its host-suffix/path-prefix
expressions (see :mod:`hashguard.text.urls`), and each is looked up, as itself and hashed.
The index keys ``url`` entries by the SHA-256 of their expression too (as every variable-
length type), so both lookups are the same 32-byte search.
"""

from __future__ import annotations

from hashguard.signals.base import HexDigestType, SignalType
from hashguard.text.urls import rule_expression


class Url(SignalType):
    name = "url"

    def parse(self, raw: str) -> str:
        return rule_expression(raw)


class UrlSha256(HexDigestType):
    name = "url_sha256"
    nbytes = 32
