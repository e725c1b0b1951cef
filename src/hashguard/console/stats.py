"""The statistics page (docs/stats.md#the-console): a date range's figures as charts drawn
on the server, the totals by list, a summary to paste into a transparency report, and the
range's CSV to download. For leads (compliance staff hold the lead role in the console)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from hashguard.console import charts, security
from hashguard.console.pages import _base, handled
from hashguard.console.state import page, reporting, viewer
from hashguard.errors import InvalidValue
from hashguard.reports.stats import COUNTED, csv_lines, date_range, summary_text, totals

router = APIRouter(include_in_schema=False)
MAX_CHART_DAYS = 3660  # ten years on one page; the CSV takes any range
ACTIONS = (
    ("matched", "matched", "s-matched"),
    ("blocked", "blocked", "s-blocked"),
    ("held", "held", "s-held"),
    ("retroactive_removals", "removed later", "s-retro"),
)
DECISIONS = (("confirmed", "confirmed", "s-confirmed"),
             ("false_positive", "false positives", "s-fp"),
             ("appeals_overturned", "appeals overturned", "s-overturned"),
             ("reports_submitted", "reports to NCMEC", "s-reports"))  # fmt: skip


def _day(text: str, name: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidValue(f"{name} {text[:40]!r}: a date, YYYY-MM-DD") from None


def _range(since: str, until: str) -> tuple[date, date]:
    return date_range(_day(since, "since"), _day(until, "until"))


def _presets(today: date) -> list[tuple[str, date, date]]:
    last_year = today.year - 1
    out = [("Last 30 days", today - timedelta(days=29), today),
           ("Last 12 months", today - timedelta(days=364), today),
           (f"This year so far ({today.year})", today.replace(month=1, day=1), today)]  # fmt: skip
    if last_year >= 1:
        out.append((f"Last year ({last_year})", date(last_year, 1, 1), date(last_year, 12, 31)))
    return out


@router.get("/console/stats")
@handled
def stats_page(request: Request, since: str = "", until: str = "") -> Response:
    c, s = viewer(request, "lead")
    today = datetime.now(UTC).date()
    context: dict[str, Any] = {**_base(c, s), "since": since, "until": until, "problem": None,
                               "presets": _presets(today)}  # fmt: skip
    try:
        start, end = _range(since, until)
        if (end - start).days + 1 > MAX_CHART_DAYS:
            raise InvalidValue(
                f"the page charts up to {MAX_CHART_DAYS // 366} years at once; choose a shorter "
                "range, or download the CSV, which takes any range"
            )
    except InvalidValue as e:
        context["problem"] = e.message
        return page(request, "stats.html", context, e.http_status)
    slots = charts.buckets(c.store.stats.rows(start, end), start, end)
    figures = totals(c.store.stats, start, end)
    by_bank = figures["by_bank"]
    context.update(
        since=start.isoformat(), until=end.isoformat(), unit=charts.unit_for(start, end),
        slots=slots, figures=figures, counted=COUNTED,
        summary=summary_text(figures, reporting(request).platform),
        charts=[
            charts.bars("checked", "Items checked", slots, "checked", "checked", "s-checked"),
            charts.lines("actions", "Matches and what was done", slots, ACTIONS),
            charts.lines("decisions", "Reviews, appeals and reports", slots, DECISIONS),
            charts.ranked("banks", "Matches by list", [(b, v["matched"]) for b, v in
                                                       by_bank.items()], "matched", "s-matched"),
        ],
    )  # fmt: skip
    return page(request, "stats.html", context)


@router.get("/console/stats/export")
@handled
def export(request: Request, since: str = "", until: str = "") -> Response:
    """The range's figures per day, list, category and surface, as CSV (streamed)."""
    c, _ = viewer(request, "lead")
    start, end = _range(since, until)
    response = StreamingResponse(
        csv_lines(c.store.stats.rows(start, end)), media_type="text/csv; charset=utf-8"
    )
    response.headers.update(security.HEADERS)
    name = f"hashguard-stats-{start}-{end}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
