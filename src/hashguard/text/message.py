"""One message being matched: its text, and the URL lookups made of it, worked out once for
every signal type that asks (``url`` and ``url_sha256`` search the same keys).

Made for every message, so plain classes with slots: a frozen dataclass costs more to make
than some of the searches it feeds."""

from __future__ import annotations

import hashlib
from typing import Any

from hashguard.text.urls import FoundUrl, expressions, extract_urls

MAX_URLS = 1_000  # URLs looked up per message; more is a spam payload, not a message


class Message:
    """A message, and (``keys``, ``where``) the query of the types searched in its text:
    the text itself, one key, each hit saying where it was found."""

    __slots__ = ("_lookups", "keys", "text", "urls")

    def __init__(self, text: str) -> None:
        self.text = text
        self.keys = (text,)
        self.urls: list[FoundUrl] = extract_urls(text)[:MAX_URLS]  # every message needs them
        self._lookups: UrlLookups | None = None

    def where(self, query: int) -> dict[str, Any]:
        return {}  # the index says where each hit was found

    def url_lookups(self) -> UrlLookups:
        """Every host-suffix/path-prefix expression of every URL, as one list of keys (the
        SHA-256 of each expression); worked out once, for every type that asks."""
        if self._lookups is None:
            found: list[tuple[str, FoundUrl]] = []
            for url in self.urls:
                found.extend((e, url) for e in expressions(url.canonical))
            keys = [hashlib.sha256(e.encode()).digest() for e, _ in found]
            self._lookups = UrlLookups(keys, found)
        return self._lookups


class UrlLookups:
    __slots__ = ("found", "keys")

    def __init__(self, keys: list[bytes], found: list[tuple[str, FoundUrl]]) -> None:
        self.keys = keys
        self.found = found  # (expression, URL) of each key

    def where(self, query: int) -> dict[str, Any]:
        expr, url = self.found[query]
        return {"span": [url.start, url.end], "url": url.canonical, "matched": expr}
