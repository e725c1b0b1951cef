"""The composition root: content or signals -> matches.

The matching path (decode, hash, search the in-memory indexes, apply bank settings) does no
database round-trip; only a hit on an entry not matched lately reads its metadata from the
store (see :mod:`hashguard.index.entries`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hashguard.banks.model import Bank
from hashguard.content import ContentSignals, content_source, hash_content
from hashguard.errors import TooLarge
from hashguard.index.base import Hit
from hashguard.index.live import IndexSet
from hashguard.media.budget import BatchTally
from hashguard.media.image import DEFAULT_LIMITS, DecodeLimits
from hashguard.media.video import DEFAULT_VIDEO, VideoOptions
from hashguard.policy import (
    Decision,
    FloodGuard,
    StoredPolicy,
    decide,
    default_policy,
)
from hashguard.policy.versions import in_force
from hashguard.signals.base import Signal, SignalType
from hashguard.signals.registry import Registry, default_registry
from hashguard.store.repositories import Repositories
from hashguard.text.message import Message

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 100_000  # characters in one message; chat apps allow a few thousand
FLOOD_LOG_SECONDS = 60.0


@dataclass(frozen=True)
class Match:
    bank: str
    entry: str
    signal_type: str
    distance: int
    metadata: dict[str, Any] = field(default_factory=dict)
    variant: str | None = None  # which transformation of the query matched, if not as-is
    low_quality: bool = False  # the entry's or the query's signal is of low quality
    # In text: where the match is (``span`` in the message), and what matched (``matched``:
    # the URL expression or the keyword's normalised form; ``url``: the URL found).
    found: dict[str, Any] | None = None
    result: dict[str, Any] | None = None  # what the signal type reports beyond the distance

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
        if self.result:
            out.update(self.result)
        return out


@dataclass(frozen=True)
class Result:
    matches: list[Match]
    signals: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"matches": [m.as_dict() for m in self.matches], "signals": self.signals}


@dataclass(slots=True)  # made for every message: a frozen dataclass costs 0.2 µs more
class TextResult:
    matches: list[Match]
    urls: list[dict[str, Any]]  # every URL found: its span and canonical form

    def as_dict(self) -> dict[str, Any]:
        return {"matches": [m.as_dict() for m in self.matches], "urls": self.urls}


@dataclass(frozen=True)
class Status:
    """Where the indexes stand against the change log."""

    loaded: bool
    ready: bool
    loaded_from: str  # "snapshot", "store" or "empty"
    seq: int  # the last change applied
    last_seq: int  # the last change logged
    types: dict[str, dict[str, int]]  # per signal type: size, tail, bytes

    @property
    def lag(self) -> int:
        return max(0, self.last_seq - self.seq)

    @property
    def sizes(self) -> dict[str, int]:
        return {name: t["size"] for name, t in self.types.items()}


class Engine:
    def __init__(
        self,
        store: Repositories,
        registry: Registry | None = None,
        *,
        index_dir: Path | None = None,
        limits: DecodeLimits = DEFAULT_LIMITS,
        exact_orientations: bool = False,
        video: VideoOptions = DEFAULT_VIDEO,
        load: bool = True,
        flood_guard: FloodGuard | None = None,
    ) -> None:
        self.store = store
        self.registry = registry or default_registry()
        self.limits = limits
        self.video = video
        self.exact_orientations = exact_orientations
        self.index_dir = index_dir
        self.indexes = IndexSet(self.registry, store.store_id)
        # The types matched in text; those searched in a message's URLs only when it has any.
        text_types = [t for t in self.registry.types() if t.in_text]
        self._text_types = [(t.name, t.text_queries) for t in text_types]
        self._plain_text_types = [
            (t.name, t.text_queries) for t in text_types if t.in_text != "urls"
        ]
        # The types that search other types' indexes too (vPDQ: frames are PDQ hashes).
        self._cross_types = [
            t for t in self.registry.types() if type(t).also_search is not SignalType.also_search
        ]
        # What this process writes is current here at once, before the follower sees it.
        store.after_write(self.indexes.entries.clear)
        self.loaded = False
        self.last_refresh = 0.0  # time.monotonic() of the last successful catch-up
        self.policy = StoredPolicy(0, default_policy(self.registry))  # until load()
        self.flood_guard = flood_guard or store.flood_guard  # caps hold across processes
        self._policy_changes = -1  # the index set's count when the policy was last read
        self._flood_logged: dict[str, float] = {}  # rule: when its cap was last logged
        if load:
            self.load()

    def load(self) -> None:
        """Load the indexes (snapshot + tail of the log, or a rebuild). Until this is done
        the engine is not ready: a server answers 503 rather than miss known content."""
        self.indexes.load(self.store, self.index_dir)
        self.reload_policy()
        self.loaded = True
        self.last_refresh = time.monotonic()

    def refresh(self) -> int:
        """Apply changes logged since the indexes were last brought up to date."""
        applied = self.indexes.catch_up(self.store)
        if self.indexes.policy_changes != self._policy_changes:
            self.reload_policy()
        self.last_refresh = time.monotonic()
        return applied

    def reload_policy(self) -> None:
        """Read the policy in force again (done by :meth:`refresh` when one was set)."""
        # Counted before reading: a policy set meanwhile is read now or on the next round.
        changes = self.indexes.policy_changes
        self.policy = in_force(self.store, self.registry)
        self._policy_changes = changes

    def decide(self, matches: Sequence[Match], *, surface: str | None = None) -> Decision:
        """The policy in force applied to ``matches`` (see :func:`hashguard.policy.decide`)."""
        stored = self.policy  # one read: a reload meanwhile does not mix two versions
        decision = decide(stored.policy, matches, surface=surface, version=stored.version,
                          guard=self.flood_guard)  # fmt: skip
        for rule in decision.capped:
            now = time.monotonic()
            if now - self._flood_logged.get(rule, -FLOOD_LOG_SECONDS) < FLOOD_LOG_SECONDS:
                continue  # counted in the metrics each time; logged once a minute
            self._flood_logged[rule] = now
            log.warning(
                "FLOOD GUARD: rule %r is past its cap; its verdicts are lowered to review "
                "(policy version %d). A bad list entry? Check the rule's recent matches.",
                rule, stored.version,
            )  # fmt: skip
        return decision

    @property
    def seq(self) -> int:
        """The last change applied to the indexes (no database read, unlike status())."""
        return self.indexes.seq

    @property
    def banks(self) -> Mapping[int, Bank]:
        """The banks' settings as of :attr:`seq`, by id."""
        return self.indexes.banks

    @property
    def entry_reads(self) -> tuple[int, int]:
        """Matched entries read since this engine started: (from memory, from the store)."""
        return self.indexes.entries.hits, self.indexes.entries.misses

    def ready(self, max_staleness: float = 5.0) -> bool:
        """Loaded, and caught up with the change log within the last ``max_staleness`` s."""
        return self.loaded and time.monotonic() - self.last_refresh <= max_staleness

    def status(self, *, max_staleness: float = 5.0) -> Status:
        """The indexes' state, for health checks, metrics and ``hashguard index``."""
        return Status(
            loaded=self.loaded,
            ready=self.ready(max_staleness),
            loaded_from=self.indexes.loaded_from,
            seq=self.indexes.seq,
            last_seq=self.store.last_seq(),
            types=self.indexes.stats(),
        )

    def rebuild(self) -> None:
        """Build the indexes afresh from the store, and save them as the snapshot."""
        self.indexes.rebuild(self.store)
        if self.index_dir is not None:
            self.indexes.save(self.index_dir)
        self.loaded = True
        self.last_refresh = time.monotonic()

    # matching

    def match_content(self, data: bytes | Path, batch: BatchTally | None = None) -> Result:
        """``batch`` adds up the decoding bytes of one request's images (see
        :class:`~hashguard.media.budget.BatchTally`)."""
        return self.match_hashed(self.hash(data, batch=batch))

    def hash(
        self, data: bytes | Path, *, query: bool = True, batch: BatchTally | None = None
    ) -> ContentSignals:
        """Every registered type's signal of ``data``, as a query or (``query=False``) as
        content to list: the one hashing path of matching, entry uploads and the CLI."""
        return hash_content(
            data,
            self.limits,
            variants=query,
            exact_orientations=self.exact_orientations,
            batch=batch,
            registry=self.registry,
            video=self.video,
        )

    def match_file(self, path: Path) -> Result:
        """Like :meth:`match_content`; an unreadable file raises :class:`MediaError`. A
        video is read from the file as it is decoded; anything else is read whole."""
        return self.match_content(content_source(path, self.limits, self.video.limits))

    def match_hashed(self, content: ContentSignals) -> Result:
        found: list[tuple[str, Hit, str | None, dict[str, Any] | None]] = []
        low: set[str] = set()
        for name, hashed in content.hashed.items():
            signal_type = self.registry.get(name)
            queries = hashed.queries or (signal_type.index_key(hashed.value),)
            variants = hashed.variants
            for h in self.indexes.search_keys(name, queries):
                found.append((name, h, variants[h.query] if variants else None, None))
            if hashed.low_quality:
                low.add(name)
        for signal_type in self._cross_types:  # a video's frames in the image banks, ...
            also = signal_type.also_search(content.hashed, self.indexes.holds)
            for name, (keys, details) in also.items():
                for h in self.indexes.search_keys(name, keys):
                    extra = dict(details[h.query])
                    found.append((name, h, extra.pop("variant", None), extra or None))
        return Result(self._resolve(found, low_quality=low), content.as_dict())

    def match_signals(self, signals: Sequence[Signal]) -> list[Match]:
        """Matches for precomputed signals (canonical values, e.g. from ``Registry.parse``)."""
        by_type: dict[str, list[str]] = {}
        for s in signals:
            by_type.setdefault(s.type, []).append(s.value)
        found: list[tuple[str, Hit, str | None, dict[str, Any] | None]] = []
        for name, values in by_type.items():
            found.extend((name, h, None, None) for h in self.indexes.search(name, values))
        # A weak signal among the query's makes each match of its type low quality.
        low = {s.type for s in signals if self.registry.get(s.type).low_quality(s.quality)}
        return self._resolve(found, low_quality=low)

    def match_text(self, text: str) -> TextResult:
        """Entries of the types matched in text (URLs, keywords) found in a message (see
        :mod:`hashguard.text`)."""
        if len(text) > MAX_TEXT_CHARS:
            raise TooLarge(f"message is {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
        message = Message(text)
        urls = message.urls
        found: list[tuple[str, Hit, dict[str, Any]]] = []
        search = self.indexes.search_keys
        for name, text_queries in self._text_types if urls else self._plain_text_types:
            queries = text_queries(message)
            if queries is not None:
                for hit in search(name, queries.keys):
                    found.append((name, hit, hit.where or queries.where(hit.query)))
        if not urls:  # most messages: the rest is for what was found
            return TextResult(self._resolve_text(found) if found else [], [])
        listed = [{"span": [u.start, u.end], "url": u.canonical} for u in urls]
        return TextResult(self._resolve_text(found), listed)

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
        self,
        found: list[tuple[str, Hit, str | None, dict[str, Any] | None]],
        *,
        low_quality: set[str],
    ) -> list[Match]:
        """One match per (entry, signal type): the closest, with the entry's metadata."""
        best: dict[tuple[int, str], tuple[Hit, str | None, dict[str, Any] | None]] = {}
        for type_name, hit, variant, extra in found:
            key = (hit.entry_pk, type_name)
            if key not in best or self.registry.get(type_name).closer(hit, best[key][0]):
                best[key] = (hit, variant, extra)
        if not best:
            return []
        # Only types with a quality need the entry's signals; skip the query otherwise.
        needs_signals = any(self.registry.get(name).has_quality for _, name in best)
        entries = self.indexes.entries.get(
            [pk for pk, _ in best], self.store.entries, signals=needs_signals
        )
        matches = []
        for (pk, type_name), (hit, variant, extra) in best.items():
            entry = entries.get(pk)
            if entry is None or entry.status != "active":
                continue  # retracted since the index last caught up
            signal_type = self.registry.get(type_name)
            low = type_name in low_quality or any(
                s.type == type_name and signal_type.low_quality(s.quality) for s in entry.signals
            )
            matches.append(
                Match(
                    bank=entry.bank,
                    entry=entry.id,
                    signal_type=type_name,
                    distance=hit.distance,
                    metadata=entry.metadata(),
                    variant=variant,
                    low_quality=low,
                    result=_result(hit, extra) or signal_type.describe(hit.distance),
                )
            )
        matches.sort(key=lambda m: (m.distance, m.bank, m.entry, m.signal_type))
        return matches


def _result(hit: Hit, extra: dict[str, Any] | None) -> dict[str, Any] | None:
    if hit.where is None:
        return extra
    return {**hit.where, **extra} if extra else dict(hit.where)
