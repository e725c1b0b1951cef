"""Submitting a report: draft/failed -> submitting -> submitted (NCMEC's report id, the
evidence preserved) or failed (the reason; the opened report retracted).

Files go to NCMEC only where their content was kept for review (and can be opened with
the sealing keys); of the others the report says what is known, their hashes, in its
additionalInfo.
"""

from __future__ import annotations

import logging
from typing import Any

from hashguard.errors import Conflict, HashguardError
from hashguard.reports.cybertip import to_xml
from hashguard.reports.enrich import enrich, merged
from hashguard.reports.export import as_json
from hashguard.reports.ncmec import CyberTipline
from hashguard.reports.options import ReportOptions
from hashguard.review.sealing import KeyRing
from hashguard.store.report_table import Report, ReportFile, document
from hashguard.store.store import Store

log = logging.getLogger(__name__)
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif",
              "image/webp": "webp", "video/mp4": "mp4"}  # fmt: skip


def client(options: ReportOptions) -> CyberTipline:
    user, password = options.credentials()
    return CyberTipline(options.base_url(), user, password)


def submit_now(
    store: Store, report_id: int, options: ReportOptions, *, ring: KeyRing | None, actor: str,
    now: float,
) -> Report:  # fmt: skip
    """Submit with a client of the configured CyberTipline (the API's, the console's and the
    CLI's way in); :class:`Conflict` when this server has no NCMEC credentials."""
    store.reports.get(report_id)  # NotFound first
    if options.ncmec_credentials_file is None:
        raise Conflict(
            "reports cannot be submitted from this server: no NCMEC credentials are set "
            "(HASHGUARD_NCMEC_CREDENTIALS_FILE)",
            http_hint="HASHGUARD_NCMEC_CREDENTIALS_FILE, docs/reports.md#submission",
        )
    api = client(options)
    try:
        return submit(store, report_id, options, api=api, ring=ring, actor=actor, now=now)
    finally:
        api.close()


def _hashes_only(files: list[ReportFile]) -> str:
    lines = []
    for f in files:
        hashes = ", ".join(
            f"{h['hashType']} {h['value']}" for h in f.details.get("originalFileHash", [])
        )
        kind = f.details.get("industryClassification")
        lines.append(
            f"A file the provider did not keep (item {f.review_id}"
            + (f", classified {kind}" if kind else "")
            + f"): {hashes}."
        )
    return " ".join(lines)


def submit(
    store: Store,
    report_id: int,
    options: ReportOptions,
    *,
    api: CyberTipline,
    ring: KeyRing | None,
    actor: str,
    now: float,
) -> Report:
    """Submit the report; returns it as it ends (submitted or failed)."""
    report = store.reports.start(report_id, actor=actor, now=now, environment=
                                 options.ncmec_environment)  # fmt: skip
    opened: str | None = None
    try:
        doc = document(report, options.profile)
        extra_files: dict[int, dict[str, Any]] = {}
        if options.enrich_url:
            person, extra_files = enrich(options.enrich_url, as_json(report, options.profile))
            doc = merged(doc, person)
        kept: dict[str, Any] = {}
        if ring is not None:
            for f in report.files:
                got = store.kept.get(ring, f.content_key, now=now)
                if got is not None:
                    kept[f.content_key] = got
        missing = [f for f in report.files if f.content_key not in kept]
        if missing:
            note = _hashes_only(missing)
            doc["additionalInfo"] = f"{doc['additionalInfo']} {note}" if doc.get(
                "additionalInfo") else note  # fmt: skip
        report_xml = to_xml("report", doc)  # checked before anything is sent
        opened = api.submit(report_xml)
        store.reports.opened(report.id, opened)
        for f in report.files:
            content = kept.get(f.content_key)
            if content is None:
                continue
            name = f"item-{f.review_id}.{EXTENSIONS.get(content.media_type, 'bin')}"
            file_id = api.upload(opened, name, content.data)
            details = {**f.details, **extra_files.get(f.review_id, {})}
            details.setdefault("originalFileName", name)
            api.fileinfo(to_xml("fileDetails", {**details, "reportId": opened, "fileId":
                                                file_id}))  # fmt: skip
            store.reports.uploaded(f.id, file_id)
        api.finish(opened)
    except HashguardError as e:
        reason = e.message
        if opened is not None:
            try:
                api.retract(opened)
                reason += f"; NCMEC report {opened} was retracted"
            except HashguardError as r:
                reason += f"; retracting NCMEC report {opened} failed too ({r.message})"
        store.reports.failed(report.id, reason, actor=actor, now=now)
        log.warning("report %s failed: %s", report.id, reason)
        return store.reports.get(report.id)
    return store.reports.submitted(report.id, actor=actor, now=now, keep_days=
                                   options.evidence_days)  # fmt: skip
