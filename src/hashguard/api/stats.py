"""Transparency statistics (docs/stats.md): GET /v1/stats gives the figures per day x bank x
category x surface for a date range, as JSON or CSV (``format=csv`` or ``Accept:
text/csv``), written as they are read; GET /v1/stats/summary the range's totals and a
summary to paste into a transparency report. Scope ``report``."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Request
from starlette.responses import StreamingResponse

from hashguard.api.auth import Compliance
from hashguard.api.schemas import ERRORS
from hashguard.console.state import console, reporting
from hashguard.reports.stats import csv_lines, date_range, json_chunks, summary_text, totals

router = APIRouter(tags=["stats"], responses=ERRORS)


@router.get(
    "/v1/stats",
    summary="Transparency statistics per day, bank, category and surface",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def get_stats(
    request: Request,
    caller: Compliance,
    since: date | None = None,
    until: date | None = None,
    format: Literal["json", "csv"] | None = None,
) -> StreamingResponse:
    """Both ends inclusive, UTC days; by default the last 30 days. Every row of the range,
    however many, streamed (summed first: one entry per active day and group)."""
    since, until = date_range(since, until)
    rows = console(request).store.stats.rows(since, until)
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "").split(",")[0]
    )
    if wants_csv:
        name = f"hashguard-stats-{since}-{until}.csv"
        return StreamingResponse(
            csv_lines(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return StreamingResponse(json_chunks(rows, since, until), media_type="application/json")


@router.get("/v1/stats/summary", summary="A range's totals, and a summary in words")
def get_summary(
    request: Request,
    caller: Compliance,
    since: date | None = None,
    until: date | None = None,
) -> dict[str, Any]:
    since, until = date_range(since, until)
    figures = totals(console(request).store.stats, since, until)
    return {**figures, "text": summary_text(figures, reporting(request).platform)}
