"""The leads' report and statistics pages over the real app and store: a report listed,
edited with its form and as JSON, exported, submitted to the local CyberTipline server and
its status shown; the statistics page's charts, summary and CSV. And what they refuse:
reviewers, forged forms, bad fields (nothing changes), bad ranges."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from hashguard.reports.options import ReportOptions
from tests.console.conftest import Console, csrf, wait_for
from tests.reports.conftest import PROFILE, confirm
from tests.reports.ncmec_server import PASSWORD, USER, NcmecServer


def _drafted(c: Console, name: str = "sharpen-a-little.jpg") -> tuple[int, int]:
    assert c.upload(name, "c1", "chat-1")["verdict"] == "report"
    (item,) = [i.id for i in c.store.reviews.queue()]
    confirm(c, item)
    (report,) = c.store.reports.recent()
    return report.id, item


def _with_ncmec(c: Console, ncmec: NcmecServer, tmp_path: Path) -> None:
    creds = tmp_path / "ncmec.creds"
    creds.write_text(f"{USER}:{PASSWORD}\n")
    creds.chmod(0o600)
    c.app.state.reporting = ReportOptions(
        profile=PROFILE, ncmec_url=ncmec.url, ncmec_credentials_file=creds
    )


SEEN = re.compile(r'name="seen" value="([^"]+)"')


def _seen(page: Any) -> str:
    """The report version a page's forms carry."""
    found = SEEN.search(page.text)
    assert found is not None
    return found.group(1)


def _form(item_id: int, token: str, seen: str, **changes: Any) -> dict[str, Any]:
    """The edit form as the page fills it, with ``changes``."""
    return {
        "csrf": token, "seen": seen, "incident": "2026-12-01T08:00:00Z", "screenName": "",
        "displayName": "", "profileUrl": "", "additionalInfo": "", "item": [str(item_id)],
        "classification": ["A1"], "file_info": ["Detected by hash matching."], **changes,
    }  # fmt: skip


def test_a_lead_edits_exports_and_submits_a_report_and_sees_its_status(
    reporting: Console, ncmec: NcmecServer, tmp_path: Path
) -> None:
    c = reporting
    report_id, item = _drafted(c)
    lead = c.login("lena")
    listed = lead.get("/console/reports")
    assert listed.status_code == 200 and f'href="/console/reports/{report_id}"' in listed.text
    assert "u-chat-1" in listed.text and "draft" in listed.text
    item_page = lead.get(f"/console/items/{item}")
    assert f'<a href="/console/reports/{report_id}">report #{report_id}</a>' in item_page.text

    page = lead.get(f"/console/reports/{report_id}")
    assert page.status_code == 200
    md5 = next(h["value"] for h in c.store.reports.get(report_id).files[0].details[
        "originalFileHash"] if h["hashType"] == "MD5")  # fmt: skip
    assert md5 in page.text and "HASHGUARD_NCMEC_CREDENTIALS_FILE" in page.text  # none yet

    form = _form(
        item, csrf(page), _seen(page), screenName="night_owl <b>", incident="2026-12-01 09:30",
        classification=["A2"], public=[str(item)], annotation=[f"{item}:potentialMeme",
                                                               f"{item}:viral"],
        additionalInfo="Shared in a group of 40 members.",
    )  # fmt: skip
    saved = lead.post(f"/console/reports/{report_id}/edit", data=form)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?saved=1")
    report = c.store.reports.get(report_id)
    assert report.document["personOrUserReported"]["screenName"] == "night_owl <b>"
    assert report.document["incidentSummary"]["incidentDateTime"] == "2026-12-01T09:30:00Z"
    assert report.document["additionalInfo"] == "Shared in a group of 40 members."
    details = report.files[0].details
    assert details["industryClassification"] == "A2" and details["publiclyAvailable"] is True
    assert details["fileAnnotations"] == {"potentialMeme": "", "viral": ""}
    shown = lead.get(f"/console/reports/{report_id}").text
    assert "night_owl &lt;b&gt;" in shown and "night_owl <b>" not in shown  # escaped
    audit = [(a["action"], a["target"]) for a in c.store.audit.latest(20)]
    assert ("report.edit", str(report_id)) in audit

    xml = lead.get(f"/console/reports/{report_id}/export?format=xml")
    assert xml.status_code == 200 and "attachment" in xml.headers["content-disposition"]
    root = ET.fromstring(xml.content)
    sent = root.find("report")
    assert sent is not None
    assert [e.tag for e in sent] == [
        "incidentSummary", "internetDetails", "reporter", "personOrUserReported", "additionalInfo",
    ]  # fmt: skip
    assert sent.findtext("personOrUserReported/screenName") == "night_owl <b>"
    as_json = lead.get(f"/console/reports/{report_id}/export?format=json").json()
    assert as_json["files"][0]["fileDetails"]["industryClassification"] == "A2"

    _with_ncmec(c, ncmec, tmp_path)
    page = lead.get(f"/console/reports/{report_id}")
    assert 'id="submit-report"' in page.text
    done = lead.post(f"/console/reports/{report_id}/submit", data={"csrf": csrf(page)})
    assert done.status_code == 303 and done.headers["location"].endswith("submitted=submitted")
    status = lead.get(done.headers["location"]).text
    (ncmec_id,) = ncmec.finished()
    assert f"NCMEC report {ncmec_id}" in status and 'id="report-status">submitted<' in status
    assert "Evidence kept until" in status and 'id="save"' not in status  # no more edits
    received = ET.fromstring(ncmec.reports[ncmec_id]["xml"])
    assert received.findtext("personOrUserReported/screenName") == "night_owl <b>"
    (file_xml,) = ncmec.reports[ncmec_id]["details"].values()
    assert ET.fromstring(file_xml).findtext("industryClassification") == "A2"

    # submitted: the form is refused even when posted by hand, and nothing is sent again
    again = lead.post(f"/console/reports/{report_id}/edit", data=_form(
        item, csrf(lead.get("/console/queue")), "0", screenName="changed"))  # fmt: skip
    assert again.status_code == 409 and "can no longer change" in again.text
    twice = lead.post(f"/console/reports/{report_id}/submit", data={"csrf": csrf(page)})
    assert twice.status_code == 409 and len(ncmec.finished()) == 1
    assert c.store.reports.get(report_id).document["personOrUserReported"]["screenName"] == (
        "night_owl <b>"
    )


def test_a_failed_submission_shows_the_reason_and_can_be_sent_again(
    reporting: Console, ncmec: NcmecServer, tmp_path: Path
) -> None:
    c = reporting
    report_id, _ = _drafted(c)
    _with_ncmec(c, ncmec, tmp_path)
    ncmec.faults["fileinfo"] = ["400"] * 10  # refused: not retried, the report retracted
    lead = c.login("lena")
    page = lead.get(f"/console/reports/{report_id}")
    done = lead.post(f"/console/reports/{report_id}/submit", data={"csrf": csrf(page)})
    assert done.headers["location"].endswith("submitted=failed")
    shown = lead.get(done.headers["location"]).text
    assert "The submission failed:" in shown and "retracted" in shown
    assert 'id="report-status">failed<' in shown and 'id="submit-report"' in shown
    ncmec.faults.clear()
    again = lead.post(f"/console/reports/{report_id}/submit", data={"csrf": csrf(page)})
    assert again.headers["location"].endswith("submitted=submitted")
    assert len(ncmec.finished()) == 1


def test_the_pages_refuse_reviewers_forged_forms_and_bad_fields(
    reporting: Console, ncmec: NcmecServer
) -> None:
    c = reporting
    report_id, item = _drafted(c)
    before = c.store.reports.get(report_id)

    anonymous = c.browser()
    for path in ("/console/reports", f"/console/reports/{report_id}", "/console/stats",
                 "/console/stats/export"):  # fmt: skip
        assert anonymous.get(path).headers["location"].startswith("/console/login?next=")
        r = c.login("rita").get(path)
        assert r.status_code == 403 and "lead role" in r.text, path

    lead = c.login("lena")
    opened = lead.get(f"/console/reports/{report_id}")
    token, seen = csrf(opened), _seen(opened)
    forged = lead.post(f"/console/reports/{report_id}/edit",
                       data=_form(item, "forged", "0", screenName="x"))  # fmt: skip
    assert forged.status_code == 403
    forged = lead.post(f"/console/reports/{report_id}/submit", data={"csrf": "forged"})
    assert forged.status_code == 403
    # a reviewer's own session token does not open a lead's form either
    rita = c.login("rita")
    r = rita.post(f"/console/reports/{report_id}/edit",
                  data=_form(item, csrf(rita.get("/console/queue")), "0"))  # fmt: skip
    assert r.status_code == 403

    bad: list[tuple[dict[str, Any], str]] = [
        ({"incident": "yesterday"}, "ISO 8601"),
        ({"classification": ["C9"]}, "industryClassification: one of A1, A2, B1, B2"),
        ({"item": ["999"]}, "item 999 is not in report"),
        ({"item": [str(item), str(item)]}, "do not line up"),
        ({"screenName": "x" * 3000, "file_info": ["y" * 10_001]}, None),
    ]
    for changes, message in bad:
        r = lead.post(f"/console/reports/{report_id}/edit", data=_form(item, token, seen,
                                                                         **changes))  # fmt: skip
        assert r.status_code == 422, (changes, r.text[:300])
        if message:
            assert message in r.text, (message, r.text[:2000])
    for document, message in [
        ("{not json", "not JSON"),
        ("[1, 2]", "a JSON object"),
        ('{"incidentSummary": {"incidentType": "x"}}', "incidentDateTime is required"),
        ('{"reporter": {"reportingPerson": {"email": "a@b"}}}', "reporting profile"),
        ('{"foo": 1, "incidentSummary": {}}', "no element &#39;foo&#39;"),
    ]:
        r = lead.post(f"/console/reports/{report_id}/document",
                      data={"csrf": token, "seen": seen, "document": document})  # fmt: skip
        assert r.status_code == 422 and message in r.text, (document, r.text[:2000])
        assert document.replace('"', "&#34;")[:20] in r.text  # what was typed is kept
    assert c.store.reports.get(report_id) == before  # nothing changed

    # no credentials on this server: the page says so, and a hand-made post is refused
    r = lead.post(f"/console/reports/{report_id}/submit", data={"csrf": token})
    assert r.status_code == 409 and "HASHGUARD_NCMEC_CREDENTIALS_FILE" in r.text
    assert ncmec.calls == [] and c.store.reports.get(report_id).status == "draft"
    assert lead.get("/console/reports?status=nope").status_code == 422
    assert lead.get(f"/console/reports/{report_id}/export?format=pdf").status_code == 422
    assert lead.get("/console/reports/99999").status_code == 404


def test_a_lead_edits_the_elements_as_json(reporting: Console) -> None:
    c = reporting
    report_id, _ = _drafted(c)
    lead = c.login("lena")
    page = lead.get(f"/console/reports/{report_id}")
    doc = c.store.reports.get(report_id).document
    doc["personOrUserReported"]["ipCaptureEvent"] = [
        {"ipAddress": "203.0.113.7", "eventName": "Upload", "dateTime": "2026-12-01T08:00:00Z"}
    ]
    form = {"csrf": csrf(page), "seen": _seen(page), "document": json.dumps(doc)}
    r = lead.post(f"/console/reports/{report_id}/document", data=form)
    assert r.status_code == 303, r.text[:500]
    xml = lead.get(f"/console/reports/{report_id}/export?format=xml").content
    assert ET.fromstring(xml).findtext("report/personOrUserReported/ipCaptureEvent/ipAddress") == (
        "203.0.113.7"
    )


def test_two_leads_editing_one_draft_lose_nothing(reporting: Console) -> None:
    """The second save, made from a page older than the first, is refused: nothing of the
    first is overwritten, and the page shows the report as it now is."""
    c = reporting
    report_id, item = _drafted(c)
    lena, ada = c.login("lena"), c.login("ada")
    lena_page, ada_page = (b.get(f"/console/reports/{report_id}") for b in (lena, ada))
    r = lena.post(f"/console/reports/{report_id}/edit", data=_form(
        item, csrf(lena_page), _seen(lena_page), screenName="night_owl"))  # fmt: skip
    assert r.status_code == 303
    late = ada.post(f"/console/reports/{report_id}/edit", data=_form(
        item, csrf(ada_page), _seen(ada_page), screenName="someone_else"))  # fmt: skip
    assert late.status_code == 409 and "changed after it was opened" in late.text
    assert 'value="night_owl"' in late.text  # the page as it is now
    doc = json.dumps(c.store.reports.get(report_id).document)
    r = ada.post(
        f"/console/reports/{report_id}/document",
        data={"csrf": csrf(ada_page), "seen": _seen(ada_page), "document": doc},
    )
    assert r.status_code == 409
    assert c.store.reports.get(report_id).document["personOrUserReported"]["screenName"] == (
        "night_owl"
    )
    # from the page as it now is, the save goes through
    r = ada.post(f"/console/reports/{report_id}/edit", data=_form(
        item, csrf(late), _seen(late), screenName="someone_else"))  # fmt: skip
    assert r.status_code == 303
    assert ada.post(f"/console/reports/{report_id}/edit", data=_form(
        item, csrf(late), "not a number")).status_code == 422  # fmt: skip


# The statistics page


def _a_day_of_work(c: Console) -> None:
    assert c.upload("sharpen-a-little.jpg", "c1", "chat-1")["verdict"] == "report"
    assert c.upload("sharpen-a-lot.jpg", "c2", "chat-2")["verdict"] == "allow"
    assert c.upload("high-saturation.jpg", "c3", "chat-3")["verdict"] == "report"
    first, second = sorted(i.id for i in c.store.reviews.queue())
    confirm(c, first)
    lead = c.login("lena")
    page = lead.get(f"/console/items/{second}")
    r = lead.post(
        f"/console/items/{second}/decide",
        data={"csrf": csrf(page), "action": "false_positive", "note": "not it"},
    )
    assert r.status_code == 303


def _checked(c: Console, n: int) -> None:
    wait_for(lambda: sum(r["checked"] for r in c.store.stats.rows(*_today())) >= n)


def _today() -> tuple[date, date]:
    day = datetime.now(UTC).date()
    return day, day


def test_the_statistics_page_charts_sums_and_exports_a_year(reporting: Console) -> None:
    c = reporting
    _a_day_of_work(c)
    _checked(c, 3)
    lead = c.login("lena")
    page = lead.get("/console/stats")
    assert page.status_code == 200
    html = page.text
    for chart in ("checked", "actions", "decisions", "banks"):
        assert '<svg viewBox="0 0 720' in html and f'id="chart-{chart}"' in html
    assert re.search(r"<title>\d{4}-\d\d-\d\d: 3 checked</title>", html)  # today's bar
    assert "<title>iwf: 3 matched</title>" in html  # the 12-bit allow too
    assert "by day" in html and "<script" not in html.split("</head>")[1]  # drawn, no script
    assert "Example Messenger checked 3 items" in html  # the summary, in its textarea
    assert 'href="http' not in html and 'src="http' not in html  # nothing from elsewhere

    year = lead.get("/console/stats?since=2026-01-01&until=2026-12-31")
    assert year.status_code == 200 and "by week" in year.text
    assert "week of 2026-01-05" in year.text  # every week is a bucket, empty ones too

    auth = {"Authorization": f"Bearer {c.compliance}"}  # type: ignore[attr-defined]
    for since, until in (("2026-01-01", "2026-12-31"), ("0001-01-01", "9999-12-31")):
        csv_file = lead.get(f"/console/stats/export?since={since}&until={until}")
        assert csv_file.status_code == 200 and csv_file.headers["content-type"].startswith(
            "text/csv"
        )
        assert (
            f'filename="hashguard-stats-{since}-{until}.csv"'
            in (csv_file.headers["content-disposition"])
        )
        api = c.client.get(f"/v1/stats?since={since}&until={until}&format=csv", headers=auth)
        assert csv_file.content == api.content  # one writer: the API's, its escaping too
    lines = csv_file.text.splitlines()
    assert lines[0].startswith("day,bank,category,surface,checked") and len(lines) >= 3


def test_the_statistics_page_refuses_bad_ranges_clearly(reporting: Console) -> None:
    lead = reporting.login("lena")
    for query, message in [
        ("since=2026-12-31&until=2026-01-01", "until (2026-01-01) is before since (2026-12-31)"),
        ("since=2026-13-01", "since &#39;2026-13-01&#39;: a date, YYYY-MM-DD"),
        ("until=soon", "until &#39;soon&#39;: a date"),
        ("since=0001-01-01&until=9999-12-31", "download the CSV, which takes any range"),
    ]:
        r = lead.get(f"/console/stats?{query}")
        assert r.status_code == 422 and message in r.text, (query, r.text[:1500])
        assert 'id="since"' in r.text  # the form is still there to fix it
    assert lead.get("/console/stats/export?since=2026-12-31&until=2026-01-01").status_code == 422
    empty = lead.get("/console/stats?since=2001-01-01&until=2001-01-31")
    assert empty.status_code == 200 and "checked 0 items" in empty.text


def test_an_admin_sees_the_pages_too(reporting: Console) -> None:
    admin: TestClient = reporting.login("ada")
    assert admin.get("/console/reports").status_code == 200
    assert admin.get("/console/stats").status_code == 200
    assert admin.get("/console/stats/export").status_code == 200


def test_charts_cover_every_period_to_the_calendar_s_ends() -> None:
    from hashguard.console import charts
    from hashguard.reports.stats import COUNTED

    leap = {"day": "2024-02-29", **dict.fromkeys(COUNTED, 0), "checked": 7}
    months = charts.buckets([leap], date(2023, 1, 15), date(2026, 12, 31))
    assert len(months) == 48 and months[0].start == date(2023, 1, 15)  # a part month first
    assert [b.figures["checked"] for b in months if b.label == "2024-02"] == [7]
    assert sum(b.figures["checked"] for b in months) == 7
    weeks = charts.buckets([], date(2026, 1, 1), date(2026, 12, 31))
    assert weeks[0].label == "week of 2026-01-01" and weeks[1].label == "week of 2026-01-05"
    assert len(weeks) == 53
    for since, until in ((date(9999, 1, 1), date.max), (date.min, date(1, 12, 31))):
        assert charts.buckets([], since, until)[-1].start <= until
    assert charts._scale(0) == (1, (0, 1))
    assert charts._scale(7) == (10, (0, 2, 4, 6, 8, 10))
    assert charts._scale(13) == (20, (0, 5, 10, 15, 20))
    assert charts._scale(3_400_000) == (5_000_000, (0, 1_000_000, 2_000_000, 3_000_000,
                                                    4_000_000, 5_000_000))  # fmt: skip
    chart = charts.bars("c", "Checked", months, "checked", "checked", "s-checked")
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.title == "2024-02: 7 checked" and tallest.height == pytest.approx(
        (charts.HEIGHT - charts.TOP - charts.BOTTOM) * 0.7
    )


def test_the_page_draws_ranges_at_the_calendar_s_ends(reporting: Console) -> None:
    lead = reporting.login("lena")
    for query in ("since=9999-01-01&until=9999-12-31", "since=0001-01-01&until=0001-03-01"):
        r = lead.get(f"/console/stats?{query}")
        assert r.status_code == 200 and 'id="chart-checked"' in r.text, query
