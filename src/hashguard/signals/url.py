"""URL lists: ``url`` entries are URLs or domain rules, kept as their canonical Safe Browsing
expression; ``url_sha256`` entries are the SHA-256 of such an expression, for sources that
publish hashes so that the list is not a directory of the sites it lists.

Both are matched the same way: each URL found in a message gives its host-suffix/path-prefix
expressions (see :mod:`hashguard.text.urls`), and each is looked up, as itself and hashed.
The index keys ``url`` entries by the SHA-256 of their expression too (as every variable-
length type), so both lookups are the same 32-byte search.
"""

from __future__ import annotations

import random
import string
from typing import Any

from hashguard.signals.base import HexDigestType, SignalType, TextQueries
from hashguard.text.message import Message
from hashguard.text.urls import rule_expression


class _FoundInUrls(SignalType):
    """Looked up by the expressions of the URLs in a message."""

    in_text = "urls"

    def text_queries(self, message: Any) -> TextQueries | None:
        assert isinstance(message, Message)
        return message.url_lookups() if message.urls else None


class Url(_FoundInUrls):
    name = "url"

    def parse(self, raw: str) -> str:
        return rule_expression(raw)

    def examples(self, rng: random.Random, count: int) -> list[str]:
        found: set[str] = set()
        while len(found) < count:
            host = "".join(rng.choices(string.ascii_lowercase, k=10))
            path = "".join(rng.choices(string.ascii_lowercase + string.digits, k=6))
            found.add(self.parse(f"https://{host}.example.com/{path}"))
        return sorted(found)


class UrlSha256(_FoundInUrls, HexDigestType):
    name = "url_sha256"
    nbytes = 32
