"""Submitting to a local CyberTipline server (tests/reports/ncmec_server.py, the documented
flow on loopback): draft -> submitting -> submitted with NCMEC's id, the kept file uploaded
with its fileDetails; server errors at each step retried, then retracted and ``failed``
with the reason; nothing finished twice."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from hashguard.reports.ncmec import CyberTipline
from hashguard.reports.options import ReportOptions
from hashguard.reports.submit import submit
from tests.console.conftest import Console
from tests.helpers import Loopback, reply
from tests.reports.conftest import PROFILE, confirm
from tests.reports.ncmec_server import PASSWORD, USER, NcmecServer


def _drafted(c: Console) -> int:
    c.upload("sharpen-a-little.jpg", "c1", "chat-1")
    (item,) = [i.id for i in c.store.reviews.queue()]
    confirm(c, item)
    (report,) = c.store.reports.recent()
    return report.id


def _api(server: NcmecServer, password: str = PASSWORD) -> CyberTipline:
    return CyberTipline(server.url, USER, password, backoff=0.01, retries=2)


def test_a_lead_submits_over_the_api_and_sees_its_status(
    reporting: Console, ncmec: NcmecServer, tmp_path: Path
) -> None:
    c = reporting
    report_id = _drafted(c)
    creds = tmp_path / "ncmec.creds"
    creds.write_text(f"{USER}:{PASSWORD}\n")
    creds.chmod(0o600)
    c.app.state.reporting = ReportOptions(
        profile=PROFILE, ncmec_url=ncmec.url, ncmec_credentials_file=creds
    )
    auth = {"Authorization": f"Bearer {c.compliance}"}  # type: ignore[attr-defined]
    r = c.client.post(f"/v1/reports/{report_id}/submit", headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "submitted" and body["ncmec_report_id"] in ncmec.finished()
    assert ncmec.calls == ["submit", "upload", "fileinfo", "finish"]
    sent = ncmec.reports[body["ncmec_report_id"]]
    (data,) = sent["files"].values()
    assert data == (c.testdata / "pdq/bridge-mods/sharpen-a-little.jpg").read_bytes()
    (details,) = sent["details"].values()
    root = ET.fromstring(details)
    assert root.findtext("industryClassification") == "A1"
    assert root.findtext("reportId") == body["ncmec_report_id"]
    assert c.store.reports.get(report_id).files[0].ncmec_file_id in sent["files"]
    assert body["preserved_until"] is not None and c.store.reports.evidence(report_id)
    # submitted once: a second submission is refused, and nothing more reaches NCMEC
    again = c.client.post(f"/v1/reports/{report_id}/submit", headers=auth)
    assert again.status_code == 409 and len(ncmec.calls) == 4


@pytest.mark.parametrize("step", ["submit", "upload", "fileinfo", "finish"])
def test_server_errors_are_retried_then_the_report_succeeds(
    reporting: Console, ncmec: NcmecServer, step: str
) -> None:
    c = reporting
    report_id = _drafted(c)
    ncmec.faults[step] = ["500", "drop"]  # two failures, then the step works
    done = submit(
        c.store, report_id, ReportOptions(profile=PROFILE), api=_api(ncmec),
        ring=c.app.state.console.ring, actor="t", now=1.0,
    )  # fmt: skip
    assert done.status == "submitted", done.error
    assert ncmec.calls.count(step) == 3 and len(ncmec.finished()) == 1


@pytest.mark.parametrize("step", ["upload", "fileinfo", "finish"])
def test_a_step_failing_for_good_retracts_and_fails_with_the_reason(
    reporting: Console, ncmec: NcmecServer, step: str
) -> None:
    c = reporting
    report_id = _drafted(c)
    ncmec.faults[step] = ["503", "503", "503"]
    options = ReportOptions(profile=PROFILE)
    ring = c.app.state.console.ring
    done = submit(c.store, report_id, options, api=_api(ncmec), ring=ring, actor="t", now=1.0)
    assert done.status == "failed" and done.submitted_at is None
    assert f"CyberTipline {step}: gave up after 3 attempts (HTTP 503)" in (done.error or "")
    assert "was retracted" in (done.error or "")
    assert ncmec.calls[-1] == "retract" and ncmec.finished() == []
    assert c.store.reports.evidence(report_id) == []
    # a failed report may be submitted again: a new NCMEC report, finished once
    done = submit(c.store, report_id, options, api=_api(ncmec), ring=ring, actor="t", now=2.0)
    assert done.status == "submitted" and len(ncmec.finished()) == 1
    assert done.attempts == 2


def test_refusals_are_not_retried(reporting: Console, ncmec: NcmecServer) -> None:
    c = reporting
    report_id = _drafted(c)
    ncmec.faults["submit"] = ["code:4100"]
    done = submit(
        c.store, report_id, ReportOptions(profile=PROFILE), api=_api(ncmec),
        ring=None, actor="t", now=1.0,
    )  # fmt: skip
    assert done.status == "failed" and "refused, code 4100" in (done.error or "")
    assert ncmec.calls == ["submit"]
    # wrong credentials: refused at once, named
    done = submit(
        c.store, report_id, ReportOptions(profile=PROFILE), api=_api(ncmec, "wrong"),
        ring=None, actor="t", now=2.0,
    )  # fmt: skip
    assert done.status == "failed" and "credentials were refused" in (done.error or "")


def test_without_kept_content_the_report_carries_the_hashes(
    reporting: Console, ncmec: NcmecServer
) -> None:
    c = reporting
    report_id = _drafted(c)
    done = submit(
        c.store, report_id, ReportOptions(profile=PROFILE), api=_api(ncmec),
        ring=None, actor="t", now=1.0,
    )  # fmt: skip
    assert done.status == "submitted" and ncmec.calls == ["submit", "finish"]
    sent = ET.fromstring(ncmec.reports[done.ncmec_id or ""]["xml"])
    info = sent.findtext("additionalInfo") or ""
    assert "did not keep" in info and "MD5 " in info and "classified A1" in info


def test_out_of_order_elements_are_refused_by_the_server(
    reporting: Console, ncmec: NcmecServer
) -> None:
    """The server's own check: a report with reporter before incidentSummary is refused."""
    bad = (
        b"<report><reporter><reportingPerson><email>a@b</email></reportingPerson></reporter>"
        b"<incidentSummary><incidentType>Child Pornography (possession, manufacture, and "
        b"distribution)</incidentType><incidentDateTime>2026-01-01T00:00:00Z"
        b"</incidentDateTime></incidentSummary></report>"
    )
    with pytest.raises(Exception, match="out of order"):
        _api(ncmec).submit(bad)


class Platform:
    """The platform's enrichment callback on loopback: answers ``answer`` and keeps what
    it was sent."""

    def __init__(self, answer: Any, status: int = 200) -> None:
        self.received: list[dict[str, Any]] = []
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                platform.received.append(json.loads(body))
                reply(self, status, json.dumps(answer).encode(), "application/json")

            def log_message(self, *args: Any) -> None:
                pass

        self._http = Loopback(Handler, "/enrich")
        self.url = self._http.url

    def close(self) -> None:
        self._http.close()


def test_the_platform_enriches_the_report_before_it_is_sent(
    reporting: Console, ncmec: NcmecServer
) -> None:
    c = reporting
    report_id = _drafted(c)
    item = c.store.reports.get(report_id).files[0].review_id
    platform = Platform({
        "personOrUserReported": {
            "espIdentifier": "forged", "screenName": "someone",
            "ipCaptureEvent": [{"ipAddress": "192.0.2.7", "eventName": "Upload",
                                "dateTime": "2026-12-01T10:00:00Z"}],
        },
        "files": {str(item): {"originalFileName": "holiday.jpg"}},
    })  # fmt: skip
    try:
        options = ReportOptions(profile=PROFILE, enrich_url=platform.url)
        done = submit(c.store, report_id, options, api=_api(ncmec),
                      ring=c.app.state.console.ring, actor="t", now=1.0)  # fmt: skip
    finally:
        platform.close()
    assert done.status == "submitted", done.error
    assert platform.received[0]["report"]["personOrUserReported"]["espIdentifier"] == "u-chat-1"
    sent = ncmec.reports[done.ncmec_id or ""]
    person = ET.fromstring(sent["xml"]).find("personOrUserReported")
    assert person is not None
    assert person.findtext("espIdentifier") == "u-chat-1"  # hashguard's own stays
    assert person.findtext("screenName") == "someone"
    assert person.findtext("ipCaptureEvent/ipAddress") == "192.0.2.7"
    (details,) = sent["details"].values()
    assert ET.fromstring(details).findtext("originalFileName") == "holiday.jpg"


@pytest.mark.parametrize(
    ("answer", "status", "why"),
    [
        ({"personOrUserReported": {"password": "x"}}, 200, "no element 'password'"),
        ({"other": 1}, 200, "it answers with"),
        ({}, 500, "HTTP 500"),
    ],
)
def test_a_failing_enrichment_sends_nothing(
    reporting: Console, ncmec: NcmecServer, answer: Any, status: int, why: str
) -> None:
    c = reporting
    report_id = _drafted(c)
    platform = Platform(answer, status)
    try:
        options = ReportOptions(profile=PROFILE, enrich_url=platform.url)
        done = submit(c.store, report_id, options, api=_api(ncmec), ring=None, actor="t",
                      now=1.0)  # fmt: skip
    finally:
        platform.close()
    assert done.status == "failed" and why in (done.error or "")
    assert ncmec.calls == []
