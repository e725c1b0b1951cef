"""Transparency statistics as compliance staff take them (docs/stats.md): CSV and JSON,
written as they are read, and a range's totals with a summary to paste into a
transparency report. The figures themselves come from hashguard.store.stats_table."""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from hashguard.errors import InvalidValue
from hashguard.lists.csv_format import spreadsheet_cell
from hashguard.store.stats_table import METRICS, Stats

COLUMNS = ("day", "bank", "category", "surface", *METRICS)
COUNTED = tuple(m for m in METRICS if not m.startswith("median"))


DEFAULT_DAYS = 30


def date_range(
    since: date | None, until: date | None, days: int = DEFAULT_DAYS
) -> tuple[date, date]:
    """The range asked for, both ends inclusive: by default the ``days`` up to today (UTC)."""
    until = until or datetime.now(UTC).date()
    # near year 1 the default start would be before the calendar's
    since = since or date.fromordinal(max(1, until.toordinal() - (days - 1)))
    if until < since:
        raise InvalidValue(f"until ({until}) is before since ({since})")
    return since, until


def csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The header, then a line per row. Names come from lists and callers: a cell a
    spreadsheet would run as a formula gets a ``'`` in front."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")

    def line(cells: Iterable[Any]) -> str:
        buf.seek(0)
        buf.truncate()
        writer.writerow(
            spreadsheet_cell(c) if isinstance(c, str) else "" if c is None else c for c in cells
        )
        return buf.getvalue()

    yield line(COLUMNS)
    for row in rows:
        yield line(row[c] for c in COLUMNS)


def json_chunks(rows: Iterable[dict[str, Any]], since: date, until: date) -> Iterator[str]:
    """``{"since", "until", "rows": [...]}``, a row at a time."""
    yield json.dumps({"since": since.isoformat(), "until": until.isoformat()})[:-1]
    yield ', "rows": ['
    for i, row in enumerate(rows):
        yield ("," if i else "") + json.dumps(row, ensure_ascii=False)
    yield "]}"


def totals(stats: Stats, since: date, until: date) -> dict[str, Any]:
    """The range's figures summed, by bank and overall; the median time to decision is the
    range's own (not a median of days')."""
    overall = dict.fromkeys(COUNTED, 0)
    banks: dict[str, dict[str, int]] = {}
    days: set[str] = set()
    for row in stats.rows(since, until):
        days.add(row["day"])
        bank = banks.setdefault(row["bank"], dict.fromkeys(COUNTED, 0))
        for m in COUNTED:
            overall[m] += row[m]
            bank[m] += row[m]
    waits = stats.decision_seconds(since, until)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "days_with_activity": len(days),
        "total": overall,
        "median_decision_seconds": round(statistics.median(waits)) if waits else None,
        "by_bank": {b: v for b, v in sorted(banks.items()) if b},
    }


def _n(count: int, one: str, many: str | None = None) -> str:
    """``count`` with its noun: "1 item", "2 items"."""
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def summary_text(figures: dict[str, Any], platform: str = "The platform") -> str:
    """A few plain sentences for a transparency report, from :func:`totals`."""
    t = figures["total"]
    wait = figures["median_decision_seconds"]
    were = {True: "was", False: "were"}
    appeals = t["appeals_upheld"] + t["appeals_overturned"]
    parts = [
        f"From {figures['since']} to {figures['until']}, {platform} checked "
        f"{_n(t['checked'], 'item')} against lists of known child sexual abuse material and "
        f"other known abuse content.",
        f"{_n(t['matched'], 'item')} matched a list: {t['blocked']:,} "
        f"{were[t['blocked'] == 1]} blocked automatically and {t['held']:,} "
        f"{were[t['held'] == 1]} held for human review.",
        f"Reviewers confirmed {_n(t['confirmed'], 'held item')} and found "
        f"{_n(t['false_positive'], 'false positive')}"
        + (f"; the median time to a decision was {_duration(wait)}." if wait is not None else "."),
        f"{_n(t['retroactive_removals'], 'item')} already shared "
        f"{were[t['retroactive_removals'] == 1]} removed when a list learned of them later.",
        f"Of {_n(appeals, 'appeal')} decided, {t['appeals_overturned']:,} overturned the "
        f"decision and {t['appeals_upheld']:,} upheld it.",
        f"{_n(t['reports_submitted'], 'report')} {were[t['reports_submitted'] == 1]} "
        f"submitted to NCMEC's CyberTipline.",
    ]
    banks = figures["by_bank"]
    if banks:
        listed = ", ".join(f"{b} ({v['matched']:,} matched)" for b, v in banks.items())
        parts.append(f"Lists matched: {listed}.")
    return " ".join(parts)


def _duration(seconds: int) -> str:
    if seconds < 120:
        return _n(seconds, "second")
    if seconds < 2 * 3600:
        return f"{seconds // 60} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"
