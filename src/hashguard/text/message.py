"""One message being matched: its text, and the URL lookups made of it, worked out once for
every signal type that asks (``url`` and ``url_sha256`` search the same keys)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from hashguard.text.urls import FoundUrl, expressions, extract_urls

MAX_URLS = 1_000  # URLs looked up per message; more is a spam payload, not a message


class Message:
    def __init__(self, text: str) -> None:
        self.text = text
        self.urls: list[FoundUrl] = extract_urls(text)[:MAX_URLS]  # every message needs them

    @cached_property
    def url_lookups(self) -> UrlLookups:
        """Every host-suffix/path-prefix expression of every URL, as one list of keys (the
        SHA-256 of each expression)."""
        found: list[tuple[str, FoundUrl]] = []
        for url in self.urls:
            found.extend((e, url) for e in expressions(url.canonical))
        return UrlLookups([hashlib.sha256(e.encode()).digest() for e, _ in found], found)


@dataclass(frozen=True)
class UrlLookups:
    keys: list[bytes]
    found: list[tuple[str, FoundUrl]]  # (expression, URL) of each key

    def where(self, query: int) -> dict[str, Any]:
        expr, url = self.found[query]
        return {"span": [url.start, url.end], "url": url.canonical, "matched": expr}
