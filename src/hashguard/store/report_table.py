"""Authority reports in the SQL store (hashguard.reports).

A report is drafted in the transaction that confirms a held item with a ``report`` verdict
(:func:`draft`): the item's file joins the open draft of the same reported user, or starts
one. Undoing that confirmation takes the file out of a draft again (and refuses once the
report is on its way). When a report is submitted, its evidence is copied into
``hg_evidence`` and its kept content's end is moved to the end of the legal period, in one
transaction (:meth:`Reports.submitted`); :meth:`Reports.purge` ends both after it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from hashguard.errors import Conflict, InvalidValue, NotFound
from hashguard.reports.cybertip import INCIDENT_TYPE, check, ordered
from hashguard.review.model import Item
from hashguard.store import audit
from hashguard.store import tables as t
from hashguard.store.database import begin_write

_CHANGED = (
    "report {} changed after it was opened (another edit, or a file joined it): "
    "nothing was saved; open it again"
)
STATUSES = ("draft", "submitting", "submitted", "failed", "withdrawn")
EDITABLE = ("draft", "failed")  # a lead may change these; the others are on their way
HASH_TYPES = {"md5": "MD5", "sha1": "SHA1", "sha256": "SHA256", "pdq": "PDQ",
              "photodna": "PhotoDNA"}  # fmt: skip


@dataclass(frozen=True)
class ReportFile:
    id: int
    review_id: int
    match_id: int
    content_key: str
    details: dict[str, Any]
    ncmec_file_id: str | None = None


@dataclass(frozen=True)
class Report:
    id: int
    created_at: float
    updated_at: float
    status: str
    subject: str | None
    document: dict[str, Any]
    ncmec_id: str | None = None
    environment: str | None = None
    attempts: int = 0
    error: str | None = None
    submitted_by: str | None = None
    submitted_at: float | None = None
    preserved_until: float | None = None
    purged_at: float | None = None
    files: tuple[ReportFile, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "subject": self.subject,
            "ncmec_report_id": self.ncmec_id,
            "environment": self.environment,
            "attempts": self.attempts,
            "error": self.error,
            "submitted_by": self.submitted_by,
            "submitted_at": _iso(self.submitted_at),
            "preserved_until": _iso(self.preserved_until),
            "purged_at": _iso(self.purged_at),
            "items": [f.review_id for f in self.files],
        }


def _iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat()


def _zulu(value: Any) -> str:
    """An xs:dateTime with its zone, as the CyberTipline wants it."""
    if isinstance(value, datetime):
        at = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        try:
            at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            at = datetime.now(UTC)
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def file_details(record: Any, classification: str | None, viewed: bool) -> dict[str, Any]:
    """A file's fileDetails from its match-log row (``reportId``/``fileId`` come at upload)."""
    signals = json.loads(record.signals)
    hashes = []
    for kind, name in HASH_TYPES.items():
        value = signals.get(kind)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v:
                hashes.append({"hashType": name, "value": v})
    matches = json.loads(record.matches)
    why = "; ".join(
        f"matched list {m.get('bank')} entry {m.get('entry')}"
        + (f" ({m['category']})" if m.get("category") else "")
        + (f" at distance {m['distance']}" if m.get("distance") is not None else "")
        for m in matches
    )
    out: dict[str, Any] = {
        "fileViewedByEsp": viewed,
        "exifViewedByEsp": False,
        "publiclyAvailable": False,
        "fileRelevance": "Reported",
        "industryClassification": classification,
        "originalFileHash": hashes,
        "additionalInfo": f"Detected by hash matching: {why}. Confirmed by a reviewer."
        if why
        else "Confirmed by a reviewer.",
    }
    return {k: v for k, v in out.items() if v is not None}


def draft(conn: Connection, item: Item, now: float, classification: str | None,
          viewed: bool) -> int:  # fmt: skip
    """Add the confirmed ``item`` to its user's draft (made if there is none); the report's
    id. Runs inside the confirming transaction."""
    m = t.match_log
    record = conn.execute(select(m).where(m.c.id == item.match_id)).first()
    if record is None:
        raise NotFound(f"item {item.id}'s match record {item.match_id} is gone: cannot report")
    subject = record.uploader_id
    r = t.reports
    report_id: Any = None
    if subject is not None:
        report_id = conn.scalar(select(r.c.id).where(r.c.subject == subject, r.c.status == "draft"))
    when = _zulu(record.event_time or record.at)
    if report_id is None:
        person: dict[str, Any] = {"espIdentifier": subject} if subject else {}
        document = {
            "incidentSummary": {"incidentType": INCIDENT_TYPE, "incidentDateTime": when},
            "personOrUserReported": person,
        }
        row = {"created_at": now, "updated_at": now, "status": "draft", "subject": subject,
               "document": json.dumps(document), "attempts": 0}  # fmt: skip
        try:
            with conn.begin_nested():  # another confirm may open this user's draft at once
                made = conn.execute(insert(t.reports).values(**row)).inserted_primary_key
            assert made is not None
            report_id = made[0]
        except IntegrityError:  # it did: join that one
            report_id = conn.scalar(
                select(r.c.id).where(r.c.subject == subject, r.c.status == "draft")
            )
    else:  # the incident began with the earliest of its files
        doc = json.loads(conn.scalar(select(r.c.document).where(r.c.id == report_id)) or "{}")
        summary = doc.setdefault("incidentSummary", {})
        if when < summary.get("incidentDateTime", when):
            summary["incidentDateTime"] = when
        conn.execute(
            update(r).where(r.c.id == report_id).values(document=json.dumps(doc), updated_at=now)
        )
    conn.execute(
        insert(t.report_files).values(
            report_id=report_id, review_id=item.id, match_id=item.match_id,
            content_key=item.content_key, details=json.dumps(file_details(record, classification,
                                                                          viewed)),
        )
    )  # fmt: skip
    return int(report_id)


def withdraw(conn: Connection, item: Item, now: float) -> int | None:
    """Take an undone item out of its draft (the draft ends when its last file goes);
    :class:`Conflict` if its report is submitted or on its way. Inside the undo's transaction."""
    f, r = t.report_files, t.reports
    row = conn.execute(
        select(f.c.id, r.c.id.label("report_id"), r.c.status)
        .join(r, r.c.id == f.c.report_id)
        .where(f.c.review_id == item.id)
    ).first()
    if row is None:
        return None
    if row.status not in EDITABLE:
        raise Conflict(
            f"item {item.id} is in report {row.report_id}, which is {row.status}: "
            "a report to NCMEC cannot be taken back here"
        )
    conn.execute(delete(f).where(f.c.id == row.id))
    left = conn.scalar(select(func.count()).where(f.c.report_id == row.report_id))
    values: dict[str, Any] = {"updated_at": now}
    if not left:
        values["status"] = "withdrawn"
    conn.execute(update(r).where(r.c.id == row.report_id).values(**values))
    return int(row.report_id)


def _report(row: Any, files: list[ReportFile]) -> Report:
    return Report(
        row.id, row.created_at, row.updated_at, row.status, row.subject,
        json.loads(row.document), row.ncmec_id, row.environment, row.attempts, row.error,
        row.submitted_by, row.submitted_at, row.preserved_until, row.purged_at, tuple(files),
    )  # fmt: skip


def _file(row: Any) -> ReportFile:
    return ReportFile(
        row.id, row.review_id, row.match_id, row.content_key, json.loads(row.details),
        row.ncmec_file_id,
    )  # fmt: skip


class Reports:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, report_id: int) -> Report:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.reports).where(t.reports.c.id == report_id)).first()
            if row is None:
                raise NotFound(f"no report {report_id}")
            f = t.report_files
            files = conn.execute(select(f).where(f.c.report_id == report_id).order_by(f.c.id))
            return _report(row, [_file(x) for x in files])

    def draft_for(self, item: Item, *, actor: str, now: float) -> Report:
        """Report a confirmed item that was not drafted on its own (held as ``review``, then
        confirmed: what a provider knows of it must be reported all the same)."""
        if item.status != "confirmed":
            raise Conflict(f"item {item.id} is {item.status}: only a confirmed item is reported")
        with begin_write(self.engine) as conn:
            f = t.report_files
            if conn.scalar(select(f.c.report_id).where(f.c.review_id == item.id)) is not None:
                raise Conflict(f"item {item.id} is in a report already")
            viewed = conn.execute(
                select(t.reveals.c.id).where(t.reveals.c.review_id == item.id).limit(1)
            ).first()
            report_id = draft(conn, item, now, item.classification, viewed is not None)
            audit.record(conn, actor, "report.draft", str(report_id), {"item": item.id})
        return self.get(report_id)

    def for_item(self, review_id: int) -> Report | None:
        f = t.report_files
        with self.engine.connect() as conn:
            rid = conn.scalar(select(f.c.report_id).where(f.c.review_id == review_id))
        return None if rid is None else self.get(int(rid))

    def recent(self, status: str | None = None, *, limit: int = 100) -> list[Report]:
        r = t.reports
        q = select(r).order_by(r.c.id.desc()).limit(limit)
        if status is not None:
            q = q.where(r.c.status == status)
        with self.engine.connect() as conn:
            rows = list(conn.execute(q))
        return [self.get(x.id) for x in rows]

    def counts(self) -> dict[str, int]:
        r = t.reports
        with self.engine.connect() as conn:
            rows = conn.execute(select(r.c.status, func.count()).group_by(r.c.status))
            return {s: int(n) for s, n in rows}

    def edit(
        self, report_id: int, *, actor: str, now: float, document: dict[str, Any] | None = None,
        files: dict[int, dict[str, Any]] | None = None, seen: float | None = None,
    ) -> Report:  # fmt: skip
        """Replace the report's own part and/or files' details (by review id), checked
        against the schema; only while it is a draft or failed, and (given ``seen``, the
        ``updated_at`` the editor was shown) only if nobody changed it since."""
        current = self.get(report_id)
        if current.status not in EDITABLE:
            raise Conflict(f"report {report_id} is {current.status}: it can no longer change")
        if seen is not None and current.updated_at != seen:
            raise Conflict(_CHANGED.format(report_id))
        if document is not None:
            for key in ("reporter",):
                if key in document:
                    raise InvalidValue(f"report/{key} comes from the reporting profile, not here")
            check("report", {**document, "reporter": {"reportingPerson": {"email": "-"}}})
        by_item = {x.review_id: x for x in current.files}
        for review_id, details in (files or {}).items():
            if review_id not in by_item:
                raise InvalidValue(f"item {review_id} is not in report {report_id}")
            check("fileDetails", {"reportId": 1, "fileId": "-", **details})
        with begin_write(self.engine) as conn:
            r = t.reports
            done = conn.execute(
                update(r)
                .where(r.c.id == report_id, r.c.status.in_(EDITABLE),
                       r.c.updated_at == current.updated_at)
                .values(updated_at=now, **({"document": json.dumps(document)} if document
                                            is not None else {}))
            ).rowcount  # fmt: skip
            if not done:
                raise Conflict(_CHANGED.format(report_id))
            for review_id, details in (files or {}).items():
                conn.execute(
                    update(t.report_files)
                    .where(t.report_files.c.id == by_item[review_id].id)
                    .values(details=json.dumps(details))
                )
            audit.record(
                conn, actor, "report.edit", str(report_id),
                {"document": document is not None, "files": sorted(files or {})},
            )  # fmt: skip
        return self.get(report_id)

    # The submission's steps (hashguard.reports.submit)

    def start(self, report_id: int, *, actor: str, now: float, environment: str) -> Report:
        """draft/failed -> submitting, for one submitter only (a conditional update)."""
        r = t.reports
        with begin_write(self.engine) as conn:
            done = conn.execute(
                update(r)
                .where(r.c.id == report_id, r.c.status.in_(EDITABLE))
                .values(status="submitting", updated_at=now, environment=environment,
                        attempts=r.c.attempts + 1, error=None, ncmec_id=None,
                        submitted_by=actor)
            ).rowcount  # fmt: skip
            if not done:
                current = conn.execute(select(r.c.status).where(r.c.id == report_id)).first()
                if current is None:
                    raise NotFound(f"no report {report_id}")
                raise Conflict(f"report {report_id} is {current.status}: not submitted again")
            conn.execute(
                update(t.report_files)
                .where(t.report_files.c.report_id == report_id)
                .values(ncmec_file_id=None)
            )
            audit.record(conn, actor, "report.submit", str(report_id), {"env": environment})
        return self.get(report_id)

    def opened(self, report_id: int, ncmec_id: str) -> None:
        with begin_write(self.engine) as conn:
            conn.execute(update(t.reports).where(t.reports.c.id == report_id)
                         .values(ncmec_id=ncmec_id))  # fmt: skip

    def uploaded(self, file_id: int, ncmec_file_id: str) -> None:
        with begin_write(self.engine) as conn:
            conn.execute(update(t.report_files).where(t.report_files.c.id == file_id)
                         .values(ncmec_file_id=ncmec_file_id))  # fmt: skip

    def failed(self, report_id: int, reason: str, *, actor: str, now: float) -> None:
        with begin_write(self.engine) as conn:
            conn.execute(
                update(t.reports)
                .where(t.reports.c.id == report_id, t.reports.c.status == "submitting")
                .values(status="failed", error=reason[:2000], updated_at=now)
            )
            audit.record(conn, actor, "report.failed", str(report_id), {"reason": reason[:500]})

    def submitted(self, report_id: int, *, actor: str, now: float, keep_days: float) -> Report:
        """submitting -> submitted, with its evidence preserved for ``keep_days``."""
        until = now + keep_days * 86400
        report = self.get(report_id)
        keys = sorted({f.content_key for f in report.files})
        with begin_write(self.engine) as conn:
            done = conn.execute(
                update(t.reports)
                .where(t.reports.c.id == report_id, t.reports.c.status == "submitting")
                .values(status="submitted", submitted_at=now, preserved_until=until,
                        updated_at=now)
            ).rowcount  # fmt: skip
            if not done:
                raise Conflict(f"report {report_id} is no longer being submitted")
            n = _preserve(conn, report_id, keys, until)
            conn.execute(
                update(t.kept)
                .where(t.kept.c.content_key.in_(keys), t.kept.c.expires_at < until)
                .values(expires_at=until)
            )
            audit.record(
                conn, actor, "report.submitted", str(report_id),
                {"ncmec_id": report.ncmec_id, "evidence": n, "until": _iso(until)},
            )  # fmt: skip
        return self.get(report_id)

    def evidence(self, report_id: int) -> list[dict[str, Any]]:
        e = t.evidence
        with self.engine.connect() as conn:
            rows = conn.execute(select(e).where(e.c.report_id == report_id).order_by(e.c.id))
            return [
                {"kind": x.kind, "ref": x.ref, "until": _iso(x.until), **json.loads(x.payload)}
                for x in rows
            ]

    def purge(self, now: float) -> int:
        """End what the legal period no longer keeps: evidence rows, and the documents of
        reports past it (their ids, status and NCMEC id stay for the statistics)."""
        e, r = t.evidence, t.reports
        with begin_write(self.engine) as conn:
            n = conn.execute(delete(e).where(e.c.until <= now)).rowcount
            conn.execute(
                update(r)
                .where(r.c.preserved_until <= now, r.c.purged_at.is_(None))
                .values(purged_at=now, document="{}")
            )
            ended = select(r.c.id).where(r.c.purged_at.is_not(None)).scalar_subquery()
            conn.execute(
                update(t.report_files)
                .where(t.report_files.c.report_id.in_(ended), t.report_files.c.details != "{}")
                .values(details="{}")
            )
        return int(n)


def _preserve(conn: Connection, report_id: int, keys: list[str], until: float) -> int:
    """Copy each row that tells of these contents into the evidence table."""
    rows: list[dict[str, Any]] = []
    for kind, table, col in (
        ("match", t.match_log, t.match_log.c.content_key),
        ("seen", t.seen, t.seen.c.content_key),
        ("decision", t.decisions, t.decisions.c.content_key),
        ("appeal", t.appeals, t.appeals.c.content_key),
    ):
        for x in conn.execute(select(table).where(col.in_(keys))):
            payload = {k: _plain(v) for k, v in x._mapping.items()}
            rows.append({"report_id": report_id, "kind": kind, "ref": x.id,
                         "payload": json.dumps(payload), "until": until})  # fmt: skip
    if rows:
        conn.execute(insert(t.evidence), rows)
    return len(rows)


def _plain(value: Any) -> Any:
    """A column's value as JSON holds it: dates and times as ISO 8601."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def document(report: Report, profile: dict[str, Any]) -> dict[str, Any]:
    """The whole ``<report>``: the stored part with the platform's reporter and incident
    details from the reporting profile."""
    doc = dict(report.document)
    if profile.get("reporter"):
        doc["reporter"] = profile["reporter"]
    if profile.get("internetDetails") and "internetDetails" not in doc:
        doc["internetDetails"] = profile["internetDetails"]
    if profile.get("espService") and doc.get("personOrUserReported") is not None:
        person = dict(doc["personOrUserReported"])
        person.setdefault("espService", profile["espService"])
        doc["personOrUserReported"] = person
    out: dict[str, Any] = ordered("report", doc)
    return out
