"""Transparency statistics (docs/stats.md): per day (UTC) x bank x category x surface, what
was checked, matched and acted on, and how reviews, appeals and reports went.

Where each figure comes from:

- ``checked``: counted into hg_stats as the seen log writes its rows (:func:`count_checked`),
  so it outlives the seen log's 90 days; so are checks that matched a list but that no
  rule acted on (``allow`` verdicts, which the match log does not hold), added to
  ``matched``.
- ``matched``, ``blocked``, ``retroactive_removals``: the match log, counted on the day of
  the verdict, once per (bank, category) among the item's matches.
- ``held``: items put in the review queue, on the day first held, under the bank and
  category of their first match (held again, an item counts a sighting, not a hold).
- ``confirmed``, ``false_positive``, ``median_decision_seconds``: held items, on the day
  they were decided; the surface is the first holding's.
- ``appeals_upheld``, ``appeals_overturned``: appeals, on the day they were decided.
- ``reports_submitted``: authority reports, on the day the CyberTipline took them, under
  their first file's bank and category.

All but ``checked`` are computed from those tables when asked. Before the match log's purge
deletes a day's rows, :meth:`Stats.freeze` writes every figure of each whole day before it
into hg_stats, and from then on those days are read from there: a year's figures stay the
same after the rows they came from are gone.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from hashguard.store import tables as t
from hashguard.store.database import begin_write

METRICS = (
    "checked", "matched", "blocked", "held", "retroactive_removals", "confirmed",
    "false_positive", "median_decision_seconds", "appeals_upheld", "appeals_overturned",
    "reports_submitted",
)  # fmt: skip
# Counted as the seen log writes, kept in hg_stats from the start: checks, and checks that
# matched a list but that no rule acted on (added to ``matched``).
ALLOWED = "matched_allowed"
WRITTEN = ("checked", ALLOWED)
FROZEN = "stats_frozen_before"  # hg_meta: days before this one are read from hg_stats
PAGE = 5_000
Key = tuple[date, str, str, str]  # day, bank, category, surface


def count_checked(conn: Connection, rows: Iterable[dict[str, Any]]) -> None:
    """Count seen-log ``rows`` into hg_stats, in the transaction that writes them."""
    counts: Counter[tuple[date, str, str, str, str]] = Counter()
    for r in rows:
        surface = (r.get("surface") or "")[:64]
        counts[(r["day"], "", "", surface, "checked")] += 1
        for bank, category in r.get("matched") or ():  # allows that matched: no match-log row
            counts[(r["day"], bank[:64], category[:128], surface, ALLOWED)] += 1
    if not counts:
        return
    s = t.stats
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    for (day, bank, category, surface, metric), n in sorted(counts.items()):  # one order:
        stmt = insert(s).values(  # no deadlock between writers
            day=day, bank=bank, category=category, surface=surface, metric=metric, n=n
        )
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[s.c.day, s.c.bank, s.c.category, s.c.surface, s.c.metric],
                set_={"n": s.c.n + stmt.excluded.n},
            )
        )


@dataclass
class _Tally:
    counts: defaultdict[Key, Counter[str]]
    durations: defaultdict[Key, list[float]]

    @classmethod
    def new(cls) -> _Tally:
        return cls(defaultdict(Counter), defaultdict(list))

    def figures(self) -> dict[Key, dict[str, int]]:
        out: dict[Key, dict[str, int]] = {k: dict(v) for k, v in self.counts.items()}
        for key, seconds in self.durations.items():
            out.setdefault(key, {})["median_decision_seconds"] = round(statistics.median(seconds))
        return out


class Stats:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def rows(self, since: date, until: date) -> Iterator[dict[str, Any]]:
        """Each (day, bank, category, surface) with any figure, ``since`` to ``until``
        inclusive, in that order; every metric present (0, or None for a median with no
        decisions)."""
        with self.engine.connect() as conn:
            frozen = _frozen_before(conn)
            figures = _stored(conn, since, until, frozen)
            live_since = max(since, frozen) if frozen else since
            if live_since <= until:
                for key, values in _live(conn, live_since, until).figures().items():
                    figures.setdefault(key, {}).update(values)
        for key in sorted(figures):
            values = figures[key]
            day, bank, category, surface = key
            out: dict[str, Any] = {
                "day": day.isoformat(), "bank": bank, "category": category, "surface": surface,
            }  # fmt: skip
            for metric in METRICS:
                out[metric] = values.get(metric, None if metric.startswith("median") else 0)
            out["matched"] += values.get(ALLOWED, 0)
            yield out

    def decision_seconds(self, since: date, until: date) -> list[float]:
        """How long each held item decided in the range waited (held items are never
        purged: the range's exact median comes from these)."""
        start, end = _bounds(since, until)
        r = t.reviews
        q = select(r.c.created_at, r.c.decided_at).where(
            r.c.status.in_(("confirmed", "false_positive")),
            r.c.decided_at >= start.timestamp(),
            r.c.decided_at < end.timestamp(),
        )
        with self.engine.connect() as conn:
            return [d - _utc(c).timestamp() for c, d in conn.execute(q)]

    def freeze(self, before: date) -> int:
        """Store every figure of the days before ``before`` not stored yet (the match log's
        purge is about to delete their rows); returns how many figures."""
        with begin_write(self.engine) as conn:
            frozen = _frozen_before(conn)
            if frozen is not None and frozen >= before:
                return 0
            first = frozen or _first_day(conn)
            written = 0
            if first is not None and first < before:
                last = before - timedelta(days=1)
                s = t.stats
                for key, values in _live(conn, first, last).figures().items():
                    day, bank, category, surface = key
                    conn.execute(
                        s.insert(),
                        [
                            {"day": day, "bank": bank, "category": category,
                             "surface": surface, "metric": m, "n": n}
                            for m, n in values.items()
                        ],
                    )  # fmt: skip
                    written += len(values)
            _set_frozen(conn, before)
            return written


def _bounds(since: date, until: date) -> tuple[datetime, datetime]:
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    end_day = until + timedelta(days=1) if until < date.max else until
    return start, datetime(end_day.year, end_day.month, end_day.day, tzinfo=UTC)


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _day(seconds: float) -> date:
    return datetime.fromtimestamp(seconds, UTC).date()


def _frozen_before(conn: Connection) -> date | None:
    value = conn.execute(select(t.meta.c.value).where(t.meta.c.key == FROZEN)).scalar()
    return date.fromisoformat(value) if value else None


def _set_frozen(conn: Connection, before: date) -> None:
    m = t.meta
    if conn.execute(m.update().where(m.c.key == FROZEN).values(value=before.isoformat())).rowcount:
        return
    conn.execute(m.insert().values(key=FROZEN, value=before.isoformat()))


def _first_day(conn: Connection) -> date | None:
    at = conn.execute(select(t.match_log.c.at).order_by(t.match_log.c.id).limit(1)).scalar()
    decided = conn.execute(
        select(t.reviews.c.decided_at).where(t.reviews.c.decided_at.is_not(None))
        .order_by(t.reviews.c.decided_at).limit(1)
    ).scalar()  # fmt: skip
    days = [_utc(at).date()] if at is not None else []
    if decided is not None:
        days.append(_day(decided))
    return min(days) if days else None


def _stored(
    conn: Connection, since: date, until: date, frozen: date | None
) -> dict[Key, dict[str, int]]:
    """hg_stats' figures in the range: those the seen log writes always, the rest for
    frozen days."""
    s = t.stats
    q = select(s).where(s.c.day >= since, s.c.day <= until)
    if frozen is None:
        q = q.where(s.c.metric.in_(WRITTEN))
    else:
        q = q.where(s.c.metric.in_(WRITTEN) | (s.c.day < frozen))
    out: dict[Key, dict[str, int]] = {}
    for r in conn.execute(q):
        out.setdefault((r.day, r.bank, r.category, r.surface), {})[r.metric] = r.n
    return out


def _groups(matches: str | None) -> set[tuple[str, str]]:
    """The (bank, category) pairs of a match-log row's matches."""
    found = {
        (str(m.get("bank") or "")[:64], str(m.get("category") or "")[:128])
        for m in json.loads(matches or "[]")
        if isinstance(m, dict)
    }
    return found or {("", "")}


def _live(conn: Connection, since: date, until: date) -> _Tally:
    """Every figure but ``checked`` for the days ``since`` to ``until``, from the logs."""
    start, end = _bounds(since, until)
    tally = _Tally.new()
    m, r, a = t.match_log, t.reviews, t.appeals
    after = 0
    while True:  # the match log in pages by id, not all in memory
        rows = conn.execute(
            select(m.c.id, m.c.at, m.c.verdict, m.c.retroactive, m.c.surface, m.c.matches)
            .where(m.c.at >= start, m.c.at < end, m.c.id > after)
            .order_by(m.c.id).limit(PAGE)
        ).all()  # fmt: skip
        for row in rows:
            day, surface = _utc(row.at).date(), (row.surface or "")[:64]
            for bank, category in _groups(row.matches):
                counts = tally.counts[(day, bank, category, surface)]
                if row.retroactive:
                    counts["retroactive_removals"] += row.verdict == "block"
                else:
                    counts["matched"] += row.matches not in (None, "", "[]")
                    counts["blocked"] += row.verdict == "block"
        if len(rows) < PAGE:
            break
        after = rows[-1].id
    decided = (
        select(r.c.status, r.c.bank, r.c.category, r.c.created_at, r.c.decided_at, m.c.surface)
        .select_from(r.outerjoin(m, m.c.id == r.c.match_id))
        .where(
            r.c.status.in_(("confirmed", "false_positive")),
            r.c.decided_at >= start.timestamp(), r.c.decided_at < end.timestamp(),
        )
    )  # fmt: skip
    queued = (
        select(r.c.bank, r.c.category, r.c.created_at, m.c.surface)
        .select_from(r.outerjoin(m, m.c.id == r.c.match_id))
        .where(r.c.created_at >= start, r.c.created_at < end)
    )
    for new in conn.execute(queued):
        key = (_utc(new.created_at).date(), (new.bank or "")[:64],
               (new.category or "")[:128], (new.surface or "")[:64])  # fmt: skip
        tally.counts[key]["held"] += 1
    for held in conn.execute(decided):
        key = (_day(held.decided_at), (held.bank or "")[:64], (held.category or "")[:128],
               (held.surface or "")[:64])  # fmt: skip
        tally.counts[key][held.status] += 1
        tally.durations[key].append(held.decided_at - _utc(held.created_at).timestamp())
    appeals = (
        select(a.c.status, a.c.decided_at, m.c.surface, m.c.matches)
        .select_from(a.outerjoin(m, m.c.id == a.c.match_id))
        .where(
            a.c.status.in_(("upheld", "overturned")),
            a.c.decided_at >= start.timestamp(), a.c.decided_at < end.timestamp(),
        )
    )  # fmt: skip
    for appeal in conn.execute(appeals):
        bank, category = sorted(_groups(appeal.matches))[0]
        key = (_day(appeal.decided_at), bank, category, (appeal.surface or "")[:64])
        tally.counts[key][f"appeals_{appeal.status}"] += 1
    rep, files = t.reports, t.report_files
    submitted = conn.execute(
        select(rep.c.id, rep.c.submitted_at).where(
            rep.c.submitted_at.is_not(None),
            rep.c.submitted_at >= start.timestamp(), rep.c.submitted_at < end.timestamp(),
        )
    ).all()  # fmt: skip
    for report_id, submitted_at in submitted:
        head = conn.execute(
            select(r.c.bank, r.c.category, m.c.surface)
            .select_from(files.join(r, r.c.id == files.c.review_id)
                         .outerjoin(m, m.c.id == r.c.match_id))
            .where(files.c.report_id == report_id)
            .order_by(files.c.id).limit(1)
        ).first()  # fmt: skip
        bank, category, surface = head if head is not None else ("", "", "")
        key = (_day(submitted_at), (bank or "")[:64], (category or "")[:128], (surface or "")[:64])
        tally.counts[key]["reports_submitted"] += 1
    return tally
