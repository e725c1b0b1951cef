"""A report as its exports give it: JSON (hashguard's record with the CyberTipline tree) or
XML (the tree as the reporting API takes it). ``hashguard report export``, ``GET
/v1/reports/{id}`` and the console share this."""

from __future__ import annotations

from typing import Any

from hashguard.errors import NotFound
from hashguard.reports.cybertip import bundle_xml, ordered
from hashguard.store.report_table import Report, document

FORMATS = ("json", "xml")


def _numbered(report: Report) -> list[dict[str, Any]]:
    out = []
    for f in report.files:
        ids: dict[str, Any] = {}
        if report.ncmec_id:
            ids["reportId"] = report.ncmec_id
        if f.ncmec_file_id:
            ids["fileId"] = f.ncmec_file_id
        out.append(ordered("fileDetails", {**ids, **f.details}))
    return out


def as_json(report: Report, profile: dict[str, Any]) -> dict[str, Any]:
    return {
        **report.as_dict(),
        "report": document(report, profile),
        "files": [
            {"item": f.review_id, "content_key": f.content_key, "fileDetails": d}
            for f, d in zip(report.files, _numbered(report), strict=True)
        ],
    }


def as_xml(report: Report, profile: dict[str, Any]) -> bytes:
    """Refused (InvalidValue, naming the element) if the report is not complete: the
    reporter comes from the reporting profile."""
    if report.purged_at is not None:
        raise NotFound(
            f"report {report.id}'s contents were purged at {report.as_dict()['purged_at']}: "
            "its legal preservation period ended"
        )
    return bundle_xml(document(report, profile), _numbered(report))
