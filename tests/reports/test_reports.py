"""Authority reports: drafted when a report item is confirmed, grouped per reported user,
exported in the CyberTipline's shape and element order, edited by leads, withdrawn by an
undo; and refused where they must be. Real app, real store, real images."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest

from hashguard.errors import Conflict, InvalidValue
from hashguard.reports.cybertip import ORDER
from hashguard.reports.export import as_xml
from tests.console.conftest import Console
from tests.reports.conftest import confirm


def _held(c: Console) -> list[int]:
    return [i.id for i in c.store.reviews.queue()]


def _in_order(element: ET.Element) -> None:
    """Every element's children come in the schema's order, recursively."""
    names = [child.tag for child in element]
    order = ORDER.get(element.tag)
    if order is not None:
        ranks = [order.index(n) for n in names]
        assert ranks == sorted(ranks), (element.tag, names)
    for child in element:
        _in_order(child)


def test_confirmed_report_items_are_drafted_per_user_and_export_in_schema_order(
    reporting: Console,
) -> None:
    c = reporting
    assert c.upload("sharpen-a-little.jpg", "c1", "chat-1")["verdict"] == "report"
    assert c.upload("high-saturation.jpg", "c2", "chat-1")["verdict"] == "report"  # same user
    assert c.upload("sharpen-a-little.jpg", "c3", "chat-9")["verdict"] == "report"  # another
    first, second, other = sorted(_held(c))
    assert c.store.reports.recent() == []  # nothing is reported before a person confirms
    confirm(c, first, "A1")
    confirm(c, second, "B2")
    confirm(c, other, "A2")

    reports = c.store.reports.recent()
    assert sorted((r.subject, len(r.files)) for r in reports) == [("u-chat-1", 2), ("u-chat-9", 1)]
    mine = next(r for r in reports if r.subject == "u-chat-1")
    assert mine.status == "draft" and [f.review_id for f in mine.files] == [first, second]

    auth = {"Authorization": f"Bearer {c.compliance}"}  # type: ignore[attr-defined]
    body = c.client.get(f"/v1/reports/{mine.id}", headers=auth).json()
    assert body["status"] == "draft" and body["items"] == [first, second]
    assert list(body["report"]) == [
        "incidentSummary", "internetDetails", "reporter", "personOrUserReported",
    ]  # fmt: skip
    assert body["report"]["personOrUserReported"] == {
        "espIdentifier": "u-chat-1", "espService": "Example Messenger",
    }  # fmt: skip
    details = [f["fileDetails"] for f in body["files"]]
    assert [d["industryClassification"] for d in details] == ["A1", "B2"]
    assert {h["hashType"] for h in details[0]["originalFileHash"]} >= {"MD5", "SHA256", "PDQ"}
    assert "matched list iwf entry x1 (A) at distance 6" in details[0]["additionalInfo"]
    # a hash in the report is the file's own, as the match log holds it
    record = c.store.match_log.records(after=mine.files[0].match_id - 1, limit=1)[0]
    md5 = next(h["value"] for h in details[0]["originalFileHash"] if h["hashType"] == "MD5")
    assert md5 == record["signals"]["md5"]

    xml = c.client.get(f"/v1/reports/{mine.id}", params={"format": "xml"}, headers=auth)
    assert xml.status_code == 200 and xml.headers["content-type"] == "application/xml"
    root = ET.fromstring(xml.content)
    assert root.tag == "cybertipline"
    assert [e.tag for e in root] == ["report", "fileDetails", "fileDetails"]
    _in_order(root)
    report = root.find("report")
    assert report is not None
    assert report.findtext("incidentSummary/incidentType", "").startswith("Child Pornography")
    assert report.findtext("incidentSummary/incidentDateTime", "").endswith("Z")
    assert report.findtext("reporter/reportingPerson/email") == "t@example.org"
    assert report.findtext("personOrUserReported/espIdentifier") == "u-chat-1"
    hashes = root.findall("fileDetails")[0].findall("originalFileHash")
    assert {h.get("hashType"): h.text for h in hashes}["MD5"] == md5
    # content negotiation gives the same document
    negotiated = c.client.get(
        f"/v1/reports/{mine.id}", headers={**auth, "Accept": "application/xml"}
    )
    assert negotiated.content == xml.content


def test_reports_need_their_scope_and_name_what_is_missing(reporting: Console) -> None:
    c = reporting
    c.upload("sharpen-a-little.jpg", "c1", "chat-1")
    (item,) = _held(c)
    confirm(c, item)
    (report,) = c.store.reports.recent()
    # the platform's match key reads no reports
    r = c.client.get(f"/v1/reports/{report.id}", headers={"Authorization": f"Bearer {c.key}"})
    assert r.status_code == 403
    auth = {"Authorization": f"Bearer {c.compliance}"}  # type: ignore[attr-defined]
    assert c.client.get("/v1/reports/999999", headers=auth).status_code == 404
    assert c.client.get("/v1/reports/0", headers=auth).status_code == 422
    # without a reporting profile the XML (what would be submitted) is refused, named
    with pytest.raises(InvalidValue, match="report/reporter is required"):
        as_xml(c.store.reports.get(report.id), {})


def test_a_report_for_an_unconfirmed_item_is_refused(reporting: Console) -> None:
    c = reporting
    c.upload("sharpen-a-little.jpg", "c1", "chat-1")
    (item,) = _held(c)
    auth = {"Authorization": f"Bearer {c.compliance}"}  # type: ignore[attr-defined]
    r = c.client.post("/v1/reports", json={"item": item}, headers=auth)
    assert r.status_code == 409 and "only a confirmed item is reported" in r.text
    assert c.store.reports.recent() == []
    confirm(c, item)
    r = c.client.post("/v1/reports", json={"item": item}, headers=auth)
    assert r.status_code == 409 and "in a report already" in r.text
    assert len(c.store.reports.recent()) == 1
    r = c.client.post("/v1/reports", json={"item": item, "extra": 1}, headers=auth)
    assert r.status_code == 422


def test_an_item_held_for_review_and_confirmed_can_be_reported(reporting: Console) -> None:
    c = reporting
    from tests.console.conftest import POLICY

    c.store.policies.set(POLICY, actor="test")  # review verdicts
    c.engine.reload_policy()
    assert c.upload("sharpen-a-little.jpg", "c1", "chat-1")["verdict"] == "review"
    (item,) = _held(c)
    confirm(c, item)
    assert c.store.reports.recent() == []  # review verdicts are not drafted on their own
    auth = {"Authorization": f"Bearer {c.compliance}"}  # type: ignore[attr-defined]
    r = c.client.post("/v1/reports", json={"item": item}, headers=auth)
    assert r.status_code == 201, r.text
    assert r.json()["items"] == [item] and r.json()["status"] == "draft"


def test_confirmed_content_matched_again_is_not_queued_again(reporting: Console) -> None:
    """Its own retroactive pass (the confirmed bank now lists it) counts a sighting on the
    confirmed item: no reviewer sees it a second time, and its report keeps one file."""
    from hashguard.seen.retro import Retro
    from tests.console.conftest import wait_for

    c = reporting
    assert c.upload("sharpen-a-little.jpg", "c1", "chat-1")["verdict"] == "report"
    (item,) = _held(c)
    confirm(c, item)
    c.store.seen_log.flush()
    retro = Retro(c.engine, grace=0)
    wait_for(lambda: retro.run_once().acted >= 1)
    again = [r for r in c.store.match_log.records() if r["retroactive"]]
    assert [r["content_key"] for r in again] == ["id:c1"] and again[0]["verdict"] == "report"
    assert _held(c) == []
    assert c.store.reviews.get(item).sightings == 2
    (report,) = c.store.reports.recent()
    assert [f.review_id for f in report.files] == [item]


def test_confirmed_content_from_another_uploader_is_held_and_reported_anew(
    reporting: Console,
) -> None:
    """Without a content id the item is its content's SHA-256: the same image from another
    user is held again (and reported for that user), from the same user it is a sighting."""
    c = reporting
    data = (c.testdata / "pdq/bridge-mods/sharpen-a-little.jpg").read_bytes()

    def post(uploader: str) -> str:
        r = c.client.post(
            "/v1/match", headers={"Authorization": f"Bearer {c.key}"},
            files={"file": ("x.jpg", data)}, data={"uploader_id": uploader},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        return str(r.json()["verdict"])

    assert post("u-1") == "report"
    (first,) = _held(c)
    confirm(c, first)
    assert post("u-1") == "report"  # the same user again: counted on the confirmed item
    assert _held(c) == [] and c.store.reviews.get(first).sightings == 2
    assert post("u-2") == "report"  # another user: held, to be confirmed and reported
    (second,) = _held(c)
    assert c.store.reviews.get(second).content_key == c.store.reviews.get(first).content_key
    confirm(c, second)
    assert sorted(r.subject or "" for r in c.store.reports.recent()) == ["u-1", "u-2"]


def test_edits_are_checked_and_end_once_submitted(reporting: Console) -> None:
    c = reporting
    c.upload("sharpen-a-little.jpg", "c1", "chat-1")
    (item,) = _held(c)
    confirm(c, item)
    (report,) = c.store.reports.recent()
    doc = dict(report.document)
    doc["personOrUserReported"] = {**doc["personOrUserReported"], "screenName": "<b>x</b>"}
    done = c.store.reports.edit(report.id, actor="t", now=1.0, document=doc)
    assert done.document["personOrUserReported"]["screenName"] == "<b>x</b>"
    with pytest.raises(InvalidValue, match="report/personOrUserReported: no element 'email'"):
        c.store.reports.edit(
            report.id, actor="t", now=1.0,
            document={**doc, "personOrUserReported": {"email": "x"}},
        )  # fmt: skip
    with pytest.raises(InvalidValue, match="industryClassification: one of A1"):
        c.store.reports.edit(report.id, actor="t", now=1.0, files={item: {
            "industryClassification": "C9"}})  # fmt: skip
    with pytest.raises(InvalidValue, match="reporting profile"):
        c.store.reports.edit(report.id, actor="t", now=1.0, document={**doc, "reporter": {}})
    c.store.reports.start(report.id, actor="t", now=2.0, environment="test")
    with pytest.raises(Conflict, match="submitting"):
        c.store.reports.edit(report.id, actor="t", now=3.0, document=doc)
    with pytest.raises(Conflict, match="not submitted again"):
        c.store.reports.start(report.id, actor="t", now=3.0, environment="test")
    # the XML stays escaped: markup in a field is text
    xml = as_xml(c.store.reports.get(report.id), json.loads(json.dumps(
        {"reporter": {"reportingPerson": {"email": "t@example.org"}}})))  # fmt: skip
    assert b"&lt;b&gt;x&lt;/b&gt;" in xml


def test_undo_takes_a_file_out_of_its_draft_and_is_refused_once_sent(reporting: Console) -> None:
    c = reporting
    c.upload("sharpen-a-little.jpg", "c1", "chat-1")
    c.upload("high-saturation.jpg", "c2", "chat-1")
    first, second = sorted(_held(c))
    confirm(c, first)
    confirm(c, second)
    (report,) = c.store.reports.recent()
    lead = c.store.users.get("lena")
    decisions = c.app.state.console.decisions
    decisions.undo(lead, second, now=c.app.state.console.clock())
    assert [f.review_id for f in c.store.reports.get(report.id).files] == [first]
    c.store.reports.start(report.id, actor="t", now=2.0, environment="test")
    with pytest.raises(Conflict, match="cannot be taken back"):
        decisions.undo(lead, first, now=c.app.state.console.clock())
    assert c.store.reviews.get(first).status == "confirmed"  # nothing changed
