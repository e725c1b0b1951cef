"""Spread tracing: where a content item has been shared, from the seen log.

An item is named by the platform's ``content_id``, or by a digest (``sha256:<hex>``,
``md5:<hex>``) for content checked without one. Its sightings give its hashes; every
sighting of the same content is then found: by equal MD5 or SHA-256 (the seen log's indexed
columns) and by PDQ within a threshold (the seen log's PDQ index), whatever content id each
copy was given. The answer sums them up by chat, uploader and surface, with first and last
seen and a timeline by day. Hashes and pseudonymous ids only, as the seen log holds them,
for as long as it holds them (``seen_days``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from hashguard.banks.model import Bank
from hashguard.errors import NotFound
from hashguard.seen.pdq_index import SeenPdqIndex
from hashguard.signals.pdq import DEFAULT_THRESHOLD
from hashguard.store.repositories import SeenLogRepository

MAX_SIGHTINGS = 10_000  # read per hash; an answer says when it was cut short
EXACT = ("md5", "sha256")


def default_threshold(banks: Mapping[int, Bank]) -> int:
    """The largest PDQ threshold of the enabled banks: as near as any bank matches."""
    return max((b.pdq_threshold for b in banks.values() if b.enabled), default=DEFAULT_THRESHOLD)


def spread(
    seen: SeenLogRepository, pdq: SeenPdqIndex, content_id: str, *, threshold: int,
) -> dict[str, Any]:  # fmt: skip
    kind, _, digest = content_id.partition(":")
    if kind in EXACT and digest:  # an item named by its digest ("sha256:<hex>")
        own = seen.records(column=kind, value=digest.lower(), limit=MAX_SIGHTINGS)
    else:
        own = seen.records(content_key=f"id:{content_id}", limit=MAX_SIGHTINGS)
    if not own:
        raise NotFound(
            f"content {content_id!r} was never seen, or no longer is (the seen log keeps seen_days)"
        )
    found: dict[int, dict[str, Any]] = {r["id"]: r for r in own}
    named = kind if kind in EXACT and digest else "content_id"
    how: Counter[str] = Counter()
    truncated = len(own) >= MAX_SIGHTINGS
    for column in EXACT:
        for value in {r[column] for r in own if r[column]}:
            rows = seen.records(column=column, value=value, limit=MAX_SIGHTINGS)
            truncated |= len(rows) >= MAX_SIGHTINGS
            for r in rows:
                if r["id"] not in found:
                    found[r["id"]] = r
                    how[column] += 1
    for value in {r["pdq"] for r in own if r["pdq"]}:
        ids = [i for i in pdq.search(value, threshold) if i not in found][:MAX_SIGHTINGS]
        truncated |= len(ids) >= MAX_SIGHTINGS
        for r in seen.records(ids=ids, limit=len(ids)) if ids else []:
            found[r["id"]] = r
            how["pdq"] += 1
    sightings = sorted(found.values(), key=lambda r: (r["at"], r["id"]))
    return {
        "content_id": content_id,
        "sightings": len(sightings),
        "truncated": truncated,
        "first_seen": sightings[0]["at"],
        "last_seen": sightings[-1]["at"],
        "found_by": {named: len(own), **how},
        "pdq_threshold": threshold,
        "items": len({r["content_key"] for r in sightings}),
        "chats": _groups(sightings, "chat_id"),
        "uploaders": _groups(sightings, "uploader_id"),
        "surfaces": dict(Counter(r["surface"] or "unknown" for r in sightings).most_common()),
        "verdicts": dict(Counter(r["verdict"] for r in sightings).most_common()),
        "timeline": [{"day": day, "sightings": n}
                     for day, n in sorted(Counter(r["day"] for r in sightings).items())],
    }  # fmt: skip


def _groups(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Per value of ``key`` (rows without one left out): sightings, first and last seen;
    most sightings first."""
    groups: dict[str, dict[str, Any]] = {}
    for r in rows:  # in time order
        value = r[key]
        if value is None:
            continue
        g = groups.setdefault(value, {key: value, "sightings": 0, "first_seen": r["at"]})
        g["sightings"] += 1
        g["last_seen"] = r["at"]
    return sorted(groups.values(), key=lambda g: (-g["sightings"], g["first_seen"]))
