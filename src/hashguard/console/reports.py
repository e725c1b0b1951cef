"""The leads' report pages (docs/reports.md#the-console): the authority reports drafted from
confirmed items; each one's elements and files, to check and edit while it is a draft (or
failed); its export as the CyberTipline's XML or JSON; its submission, and its status."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from hashguard.console import security
from hashguard.console.pages import RowId, Text, _base, _when, handled
from hashguard.console.state import Console, page, redirect, reporting, viewer
from hashguard.errors import Conflict, InvalidValue
from hashguard.reports.cybertip import INDUSTRY, ORDER
from hashguard.reports.export import as_json, as_xml
from hashguard.reports.submit import submit_now
from hashguard.store.report_table import EDITABLE, STATUSES, Report
from hashguard.store.user_table import Session

router = APIRouter(include_in_schema=False)
MAX_DOCUMENT = 100_000  # the report's own elements as JSON, edited by hand
Many = Annotated[list[str], Form(max_length=1000)]
PERSON_FIELDS = (("screenName", "Screen name"), ("displayName", "Display name"),
                 ("profileUrl", "Profile URL"))  # fmt: skip


@router.get("/console/reports")
@handled
def reports_list(request: Request, status: str = "") -> Response:
    c, s = viewer(request, "lead")
    if status and status not in STATUSES:
        raise InvalidValue(f"no report status {status!r}; one of {', '.join(STATUSES)}")
    reports = c.store.reports.recent(status or None, limit=200)
    rows = [{"report": r, "created": _when(r.created_at), "updated": _when(r.updated_at)}
            for r in reports]  # fmt: skip
    return page(
        request,
        "reports.html",
        {**_base(c, s), "rows": rows, "status": status, "statuses": STATUSES,
         "report_counts": c.store.reports.counts()},
    )  # fmt: skip


def _report_page(
    request: Request, c: Console, s: Session, report: Report, *, problem: str | None = None,
    document_text: str | None = None, status: int = 200,
) -> Response:  # fmt: skip
    options = reporting(request)
    doc = report.document
    files = [
        {
            "file": f,
            "hashes": f.details.get("originalFileHash", []),
            "annotations": set(f.details.get("fileAnnotations") or {}),
        }
        for f in report.files
    ]
    return page(
        request,
        "report.html",
        {
            **_base(c, s),
            "report": report,
            "editable": report.status in EDITABLE,
            "incident": doc.get("incidentSummary", {}).get("incidentDateTime", ""),
            "person": doc.get("personOrUserReported") or {},
            "person_fields": PERSON_FIELDS,
            "files": files,
            "industry": INDUSTRY,
            "annotation_names": ORDER["fileAnnotations"],
            "document_text": document_text or json.dumps(doc, indent=2, ensure_ascii=False),
            "may_submit": options.ncmec_credentials_file is not None,
            "environment": options.ncmec_environment,
            "problem": problem,
            "when": {
                k: _when(getattr(report, k))
                for k in ("created_at", "updated_at", "submitted_at", "preserved_until")
            },
        },
        status,
    )


@router.get("/console/reports/{report_id}")
@handled
def report_page(request: Request, report_id: RowId) -> Response:
    c, s = viewer(request, "lead")
    return _report_page(request, c, s, c.store.reports.get(report_id))


@router.get("/console/reports/{report_id}/export")
@handled
def export(request: Request, report_id: RowId, format: str = "xml") -> Response:
    """The report as it would be sent, to download: the API's XML, or the same as JSON."""
    c, _ = viewer(request, "lead")
    report = c.store.reports.get(report_id)
    profile = reporting(request).profile
    if format == "xml":
        body, media = as_xml(report, profile), "application/xml"
    elif format == "json":
        body = json.dumps(as_json(report, profile), indent=2, ensure_ascii=False).encode()
        media = "application/json"
    else:
        raise InvalidValue(f"no export format {format!r}; xml or json")
    name = f"hashguard-report-{report.id}.{format}"
    response = Response(body, media_type=media)
    response.headers.update(security.HEADERS)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _zulu(text: str) -> str:
    """An incident date and time as typed, as the CyberTipline's UTC dateTime."""
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidValue(
            f"incident date and time {text!r}: ISO 8601, e.g. 2026-12-08T09:30:00Z"
        ) from None
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _set(doc: dict[str, Any], key: str, value: str) -> None:
    if value.strip():
        doc[key] = value.strip()
    else:
        doc.pop(key, None)


def _edits(
    report: Report, incident: str, person_values: dict[str, str], info: str, items: list[str],
    classification: list[str], public: list[str], annotation: list[str], file_info: list[str],
) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:  # fmt: skip
    """The report's document and files' details with the form's fields applied."""
    doc = copy.deepcopy(report.document)
    doc.setdefault("incidentSummary", {})["incidentDateTime"] = _zulu(incident)
    person = dict(doc.get("personOrUserReported") or {})
    for key, value in person_values.items():
        _set(person, key, value)
    if person:
        doc["personOrUserReported"] = person
    _set(doc, "additionalInfo", info)
    if not (len(items) == len(classification) == len(file_info)):
        raise InvalidValue("the form's file fields do not line up; open the report again")
    by_item = {str(f.review_id): f for f in report.files}
    files: dict[int, dict[str, Any]] = {}
    for item, kind, text in zip(items, classification, file_info, strict=True):
        if item not in by_item:
            raise InvalidValue(f"item {item} is not in report {report.id}")
        details = dict(by_item[item].details)
        _set(details, "industryClassification", kind)
        details["publiclyAvailable"] = item in public
        flags = {n: "" for n in ORDER["fileAnnotations"] if f"{item}:{n}" in annotation}
        if flags:
            details["fileAnnotations"] = flags
        else:
            details.pop("fileAnnotations", None)
        _set(details, "additionalInfo", text)
        files[int(item)] = details
    return doc, files


def _seen(text: str) -> float:
    """The ``updated_at`` the form was made from (two leads on one draft: the second save
    is refused, not lost)."""
    try:
        return float(text)
    except ValueError:
        raise InvalidValue("the form has no report version; open the report again") from None


@router.post("/console/reports/{report_id}/edit")
@handled
def edit(
    request: Request, report_id: RowId, csrf: Text = "", seen: Text = "", incident: Text = "",
    screenName: Text = "", displayName: Text = "", profileUrl: Text = "",
    additionalInfo: Text = "", item: Many = [], classification: Many = [],  # noqa: B006
    public: Many = [], annotation: Many = [], file_info: Many = [],  # noqa: B006
) -> Response:  # fmt: skip
    c, s = viewer(request, "lead")
    security.check_csrf(csrf, s.csrf)
    report = c.store.reports.get(report_id)
    person = {"screenName": screenName, "displayName": displayName, "profileUrl": profileUrl}
    try:
        doc, files = _edits(report, incident, person, additionalInfo, item, classification,
                            public, annotation, file_info)  # fmt: skip
        c.store.reports.edit(report_id, actor=f"user:{s.user.name}", now=c.clock(),
                             document=doc, files=files, seen=_seen(seen))  # fmt: skip
    except (InvalidValue, Conflict) as e:
        report = c.store.reports.get(report_id)  # as it is now
        return _report_page(request, c, s, report, problem=e.message, status=e.http_status)
    return redirect(f"/console/reports/{report_id}?saved=1")


@router.post("/console/reports/{report_id}/document")
@handled
def edit_document(
    request: Request, report_id: RowId, csrf: Text = "", seen: Text = "",
    document: Annotated[str, Form(max_length=MAX_DOCUMENT)] = "",
) -> Response:  # fmt: skip
    """The report's own elements as JSON, for what the form above has no field for."""
    c, s = viewer(request, "lead")
    security.check_csrf(csrf, s.csrf)
    try:
        try:
            doc = json.loads(document)
        except ValueError as e:
            raise InvalidValue(f"the report's elements are not JSON: {e}") from None
        if not isinstance(doc, dict):
            raise InvalidValue("the report's elements: a JSON object of CyberTipline elements")
        c.store.reports.edit(report_id, actor=f"user:{s.user.name}", now=c.clock(),
                             document=doc, seen=_seen(seen))  # fmt: skip
    except (InvalidValue, Conflict) as e:
        report = c.store.reports.get(report_id)
        return _report_page(request, c, s, report, problem=e.message, document_text=document,
                            status=e.http_status)  # fmt: skip
    return redirect(f"/console/reports/{report_id}?saved=1")


@router.post("/console/reports/{report_id}/submit")
@handled
def submit(request: Request, report_id: RowId, csrf: Text = "") -> Response:
    """Runs the CyberTipline's flow now; the page then shows how it ended."""
    c, s = viewer(request, "lead")
    security.check_csrf(csrf, s.csrf)
    done = submit_now(
        c.store, report_id, reporting(request), ring=c.ring, actor=f"user:{s.user.name}",
        now=c.clock(),
    )  # fmt: skip
    return redirect(f"/console/reports/{done.id}?submitted={done.status}")
