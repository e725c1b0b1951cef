"""The composition root: content or signals -> matches.

The matching path (decode, hash, search the in-memory indexes, apply bank settings) does no
database round-trip; only a hit on an entry not matched lately reads its metadata from the
store (see :mod:`hashguard.index.entries`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hashguard.batch import read_file
from hashguard.content import ContentSignals, hash_content
from hashguard.errors import TooLarge
from hashguard.index.live import Hit, IndexSet
from hashguard.media.budget import BatchTally
from hashguard.media.image import DEFAULT_LIMITS, DecodeLimits
from hashguard.signals.base import Signal
from hashguard.signals.pdq import LOW_QUALITY
from hashguard.signals.registry import Registry, default_registry
from hashguard.store.store import Store
from hashguard.text.urls import FoundUrl, expressions, extract_urls

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 100_000  # characters in one message; chat apps allow a few thousand
MAX_URLS = 1_000  # URLs looked up per message; more is a spam payload, not a message

# pdqhash.compute_dihedral's order; trimmed-border variants follow with a "trimmed " prefix.
DIHEDRAL = (
    "original", "rotate90", "rotate180", "rotate270",
    "flip_x", "flip_y", "flip_diagonal", "flip_antidiagonal",
)  # fmt: skip


@dataclass(frozen=True)
class Match:
    bank: str
    entry: str
    signal_type: str
    distance: int
    metadata: dict[str, Any] = field(default_factory=dict)
    variant: str | None = None  # which transformation of the query matched, if not as-is
    low_quality: bool = False  # the entry's or the query's PDQ quality was below 50
    # In text: where the match is (``span`` in the message), and what matched (``matched``:
    # the URL expression or the keyword's normalised form; ``url``: the URL found).
    found: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "bank": self.bank,
            "entry": self.entry,
            "signal_type": self.signal_type,
            "distance": self.distance,
            **self.metadata,
        }
        if self.variant:
            out["variant"] = self.variant
        if self.low_quality:
            out["low_quality"] = True
        if self.found:
            out.update(self.found)
        return out


@dataclass(frozen=True)
class Result:
    matches: list[Match]
    signals: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"matches": [m.as_dict() for m in self.matches], "signals": self.signals}


@dataclass(frozen=True)
class TextResult:
    matches: list[Match]
    urls: list[dict[str, Any]]  # every URL found: its span and canonical form

    def as_dict(self) -> dict[str, Any]:
        return {"matches": [m.as_dict() for m in self.matches], "urls": self.urls}


def _variant(position: int) -> str | None:
    if position == 0:
        return None
    name = DIHEDRAL[position % len(DIHEDRAL)]
    return f"trimmed {name}" if position >= len(DIHEDRAL) else name


class Engine:
    def __init__(
        self,
        store: Store,
        registry: Registry | None = None,
        *,
        index_dir: Path | None = None,
        limits: DecodeLimits = DEFAULT_LIMITS,
        exact_orientations: bool = False,
        load: bool = True,
    ) -> None:
        self.store = store
        self.registry = registry or default_registry()
        self.limits = limits
        self.exact_orientations = exact_orientations
        self.index_dir = index_dir
        self.indexes = IndexSet(self.registry, store.store_id)
        # What this process writes is current here at once, before the follower sees it.
        store.after_write(self.indexes.entries.clear)
        self.loaded = False
        self.last_refresh = 0.0  # time.monotonic() of the last successful catch-up
        if load:
            self.load()

    def load(self) -> None:
        """Load the indexes (snapshot + tail of the log, or a rebuild). Until this is done
        the engine is not ready: a server answers 503 rather than miss known content."""
        self.indexes.load(self.store, self.index_dir)
        self.loaded = True
        self.last_refresh = time.monotonic()

    def refresh(self) -> int:
        """Apply changes logged since the indexes were last brought up to date."""
        applied = self.indexes.catch_up(self.store)
        self.last_refresh = time.monotonic()
        return applied

    def ready(self, max_staleness: float = 5.0) -> bool:
        """Loaded, and caught up with the change log within the last ``max_staleness`` s."""
        return self.loaded and time.monotonic() - self.last_refresh <= max_staleness

    # matching

    def match_content(self, data: bytes, batch: BatchTally | None = None) -> Result:
        """``batch`` adds up the decoding bytes of one request's images (see
        :class:`~hashguard.media.budget.BatchTally`)."""
        return self.match_hashed(
            hash_content(data, self.limits, exact_orientations=self.exact_orientations, batch=batch)
        )

    def match_file(self, path: Path) -> Result:
        """Like :meth:`match_content`; an unreadable file raises :class:`MediaError`."""
        return self.match_content(read_file(path, self.limits))

    def match_hashed(self, content: ContentSignals) -> Result:
        found: list[tuple[str, Hit, str | None]] = []
        for name, value in content.digests.items():
            found.extend((name, h, None) for h in self.indexes.search(name, [value]))
        if content.pdq_queries:
            values = [q.hex() for q in content.pdq_queries]
            found.extend(("pdq", h, _variant(h.query)) for h in self.indexes.search("pdq", values))
        return Result(
            self._resolve(found, query_low_quality=content.low_quality), content.as_dict()
        )

    def match_signals(self, signals: Sequence[Signal]) -> list[Match]:
        """Matches for precomputed signals (canonical values, e.g. from ``Registry.parse``)."""
        by_type: dict[str, list[str]] = {}
        for s in signals:
            by_type.setdefault(s.type, []).append(s.value)
        found: list[tuple[str, Hit, str | None]] = []
        for name, values in by_type.items():
            found.extend((name, h, None) for h in self.indexes.search(name, values))
        low = any(s.quality is not None and s.quality < LOW_QUALITY for s in signals)
        return self._resolve(found, query_low_quality=low)

    def match_text(self, text: str) -> TextResult:
        """URL and keyword entries found in a message (see :mod:`hashguard.text`)."""
        if len(text) > MAX_TEXT_CHARS:
            raise TooLarge(f"message is {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
        urls = extract_urls(text)[:MAX_URLS]
        found = self._url_hits(urls) if urls else []  # most messages hold no URL
        for kw, hit in self.indexes.search_text("keyword", text):
            where = {"span": [kw.start, kw.end], "matched": kw.matched, "mode": kw.mode.value}
            found.append(("keyword", hit, where))
        listed = [{"span": [u.start, u.end], "url": u.canonical} for u in urls]
        return TextResult(self._resolve_text(found), listed)

    def _url_hits(self, urls: list[FoundUrl]) -> list[tuple[str, Hit, dict[str, Any]]]:
        """Every expression of every URL, looked up at once; ``url`` entries are indexed by
        the SHA-256 of their expression, ``url_sha256`` entries are that SHA-256: one key."""
        exprs: list[tuple[str, dict[str, Any]]] = []
        for url in urls:
            where = {"span": [url.start, url.end], "url": url.canonical}
            exprs.extend((e, where) for e in expressions(url.canonical))
        keys = [hashlib.sha256(e.encode()).digest() for e, _ in exprs]
        found: list[tuple[str, Hit, dict[str, Any]]] = []
        for type_name in ("url", "url_sha256"):
            for hit in self.indexes.search_keys(type_name, keys):
                expr, where = exprs[hit.query]
                found.append((type_name, hit, {**where, "matched": expr}))
        return found

    def _resolve_text(self, found: list[tuple[str, Hit, dict[str, Any]]]) -> list[Match]:
        """One match per (entry, span): active entries only, with their metadata."""
        if not found:
            return []
        pks = [hit.entry_pk for _, hit, _ in found]
        entries = self.indexes.entries.get(pks, self.store.entries)
        seen: set[tuple[int, int, int]] = set()
        matches = []
        for type_name, hit, where in found:
            entry = entries.get(hit.entry_pk)
            key = (hit.entry_pk, *where["span"])
            if entry is None or entry.status != "active" or key in seen:
                continue
            seen.add(key)
            matches.append(Match(entry.bank, entry.id, type_name, 0, entry.metadata(), found=where))
        matches.sort(key=lambda m: (m.found["span"] if m.found else [0], m.bank, m.entry))
        return matches

    def match_many(self, items: Iterable[bytes]) -> list[Result]:
        return [self.match_content(data) for data in items]

    def _resolve(
        self, found: list[tuple[str, Hit, str | None]], *, query_low_quality: bool
    ) -> list[Match]:
        """One match per (entry, signal type): the closest, with the entry's metadata."""
        best: dict[tuple[int, str], tuple[Hit, str | None]] = {}
        for type_name, hit, variant in found:
            key = (hit.entry_pk, type_name)
            if key not in best or hit.distance < best[key][0].distance:
                best[key] = (hit, variant)
        if not best:
            return []
        # Only a PDQ match needs the entry's signals (their quality); skip the query otherwise.
        needs_signals = any(type_name == "pdq" for _, type_name in best)
        entries = self.indexes.entries.get(
            [pk for pk, _ in best], self.store.entries, signals=needs_signals
        )
        matches = []
        for (pk, type_name), (hit, variant) in best.items():
            entry = entries.get(pk)
            if entry is None or entry.status != "active":
                continue  # retracted since the index last caught up
            entry_low = any(
                s.type == type_name and s.quality is not None and s.quality < LOW_QUALITY
                for s in entry.signals
            )
            matches.append(
                Match(
                    bank=entry.bank,
                    entry=entry.id,
                    signal_type=type_name,
                    distance=hit.distance,
                    metadata=entry.metadata(),
                    variant=variant,
                    low_quality=type_name == "pdq" and (entry_low or query_low_quality),
                )
            )
        matches.sort(key=lambda m: (m.distance, m.bank, m.entry, m.signal_type))
        return matches
