"""Evidence preservation: a submitted report's match-log and seen-log rows, decisions and
kept content outlive the normal purge by exactly the legal period, then go. The clock is
stepped through Retention.purge's ``now``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from hashguard.errors import NotFound
from hashguard.reports.export import as_json, as_xml
from hashguard.runtime.retention import Retention
from tests.console.conftest import Console, wait_for
from tests.reports.conftest import PROFILE, confirm

DAY = 86400.0


def test_evidence_outlives_the_purge_by_exactly_the_legal_period(reporting: Console) -> None:
    c = reporting
    c.upload("sharpen-a-little.jpg", "c1", "chat-1")
    c.upload("sharpen-a-little.jpg", "c1", "chat-2")  # seen twice, in two chats
    (item,) = [i.id for i in c.store.reviews.queue()]
    wait_for(lambda: len(c.store.seen_log.records(content_key="id:c1")) == 2)
    assert c.store.kept.has("id:c1", now=0)
    confirm(c, item)
    assert c.store.kept.has("id:c1", now=0)  # a report item's content stays for its report
    (report,) = c.store.reports.recent()

    submitted_at = float(int(time.time()))  # whole seconds: datetime keeps microseconds
    c.store.reports.start(report.id, actor="t", now=submitted_at, environment="test")
    c.store.reports.opened(report.id, "4242")
    done = c.store.reports.submitted(report.id, actor="t", now=submitted_at, keep_days=365)
    assert done.status == "submitted" and done.ncmec_id == "4242"
    kinds = sorted(e["kind"] for e in c.store.reports.evidence(report.id))
    assert kinds == ["decision", "match", "match", "seen", "seen"]
    chats = {e["chat_id"] for e in c.store.reports.evidence(report.id) if e["kind"] == "seen"}
    assert chats == {"chat-1", "chat-2"}

    # The normal purge, with retention of a day, two days on: the logs are emptied ...
    retention = Retention(match_log_days=1, outbox_days=1, seen_days=1)
    start = datetime.fromtimestamp(submitted_at, UTC)
    out = retention.purge(c.store, now=start + timedelta(days=2))
    assert out["match_log"] == 2 and out["seen_log"] == 2 and out["evidence"] == 0
    assert c.store.match_log.records() == [] and c.store.seen_log.records() == []
    # ... the evidence is not, nor the kept content (its own end was 30 days)
    assert len(c.store.reports.evidence(report.id)) == 5
    assert c.store.kept.has("id:c1", now=0)
    out = retention.purge(c.store, now=start + timedelta(days=365) - timedelta(seconds=1))
    assert out["evidence"] == 0 and out["kept"] == 0
    assert len(c.store.reports.evidence(report.id)) == 5 and c.store.kept.has("id:c1", now=0)
    assert as_json(c.store.reports.get(report.id), PROFILE)["report"]["incidentSummary"]

    # one legal period after submission, all of it goes; the report's record stays
    out = retention.purge(c.store, now=start + timedelta(days=365))
    assert out["evidence"] == 5 and out["kept"] == 1
    assert c.store.reports.evidence(report.id) == [] and not c.store.kept.has("id:c1", now=0)
    gone = c.store.reports.get(report.id)
    assert (gone.status, gone.ncmec_id, gone.document) == ("submitted", "4242", {})
    assert gone.purged_at == submitted_at + 365 * DAY
    assert all(f.details == {} for f in gone.files)
    auth = {"Authorization": f"Bearer {c.compliance}"}  # type: ignore[attr-defined]
    r = c.client.get(f"/v1/reports/{report.id}", params={"format": "xml"}, headers=auth)
    assert r.status_code == 404 and "legal preservation period ended" in r.text
    with pytest.raises(NotFound, match="purged"):
        as_xml(gone, PROFILE)


def test_an_unsubmitted_reports_content_ends_at_its_own_time(reporting: Console) -> None:
    """A draft preserves nothing: its kept content ends at review_keep_days like any."""
    c = reporting
    c.upload("sharpen-a-little.jpg", "c1", "chat-1")
    (item,) = [i.id for i in c.store.reviews.queue()]
    confirm(c, item)
    (report,) = c.store.reports.recent()
    out = Retention().purge(c.store, now=datetime.now(UTC) + timedelta(days=31))
    assert out["kept"] == 1 and out["evidence"] == 0
    assert c.store.reports.evidence(report.id) == []
    assert c.store.reports.get(report.id).status == "draft"
