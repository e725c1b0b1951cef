"""Authority reports (docs/reports.md): GET /v1/reports lists them, GET /v1/reports/{id}
gives one as JSON, or as the CyberTipline's XML (``format=xml`` or ``Accept:
application/xml``), POST /v1/reports reports a confirmed item. Scope ``report``."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from hashguard.api.auth import Compliance
from hashguard.api.schemas import ERRORS, MAX_ROW_ID
from hashguard.console.state import console, reporting
from hashguard.reports.export import as_json, as_xml
from hashguard.store.report_table import STATUSES

router = APIRouter(tags=["reports"], responses=ERRORS)
Status = Literal["draft", "submitting", "submitted", "failed", "withdrawn"]
assert set(STATUSES) == set(Status.__args__)  # type: ignore[attr-defined]


@router.get("/v1/reports", summary="Authority reports, newest first")
def list_reports(
    request: Request,
    caller: Compliance,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    reports = console(request).store.reports.recent(status, limit=limit)
    return {"reports": [r.as_dict() for r in reports]}


@router.get(
    "/v1/reports/{report_id}",
    summary="One report, as JSON or the CyberTipline's XML",
    responses={200: {"content": {"application/json": {}, "application/xml": {}}}},
)
def get_report(
    request: Request,
    report_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
    caller: Compliance,
    format: Literal["json", "xml"] | None = None,
) -> Any:
    report = console(request).store.reports.get(report_id)
    profile = reporting(request).profile
    wants_xml = format == "xml" or (
        format is None and "xml" in request.headers.get("accept", "").split(",")[0]
    )
    if wants_xml:
        return Response(as_xml(report, profile), media_type="application/xml")
    return as_json(report, profile)


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item: int = Field(ge=1, le=MAX_ROW_ID, description="a confirmed held item's id")


@router.post("/v1/reports", status_code=201, summary="Report a confirmed item")
def draft_report(request: Request, body: DraftIn, caller: Compliance) -> dict[str, Any]:
    """Items held with a ``report`` verdict are drafted when confirmed; this reports one
    held as ``review`` and confirmed. 409 for an undecided or already reported item."""
    store = console(request).store
    item = store.reviews.get(body.item)
    return store.reports.draft_for(item, actor=caller.actor, now=time.time()).as_dict()


@router.post("/v1/reports/{report_id}/submit", summary="Submit a report to the CyberTipline")
def submit_report(
    request: Request, report_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)], caller: Compliance
) -> dict[str, Any]:
    """Runs the API's flow now and answers the report as it ended: ``submitted`` with
    NCMEC's report id, or ``failed`` with the reason. 409 if it is submitted or on its way."""
    from hashguard.reports.submit import submit_now

    c = console(request)
    done = submit_now(
        c.store, report_id, reporting(request), ring=c.ring, actor=caller.actor, now=time.time()
    )
    return done.as_dict()
