"""Reports and statistics in a real browser (Debian's Chromium, headless) against a real
`hashguard serve` on loopback, configured as an operator would (a reporting profile file, an
NCMEC address and credentials file): from a confirmed item, a lead edits the drafted report,
downloads it as the CyberTipline's XML, submits it to the local CyberTipline server
(tests/reports/ncmec_server.py) and sees its status; then opens the statistics page (charts
drawn by the server, nothing fetched from elsewhere) and downloads a year's CSV."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from hashguard.store.store import Store
from tests.actions.receiver import Receiver
from tests.console.browser import Served, Site, chromium_path
from tests.console.conftest import SECRET, prepare, wait_for
from tests.reports.conftest import REPORT_POLICY
from tests.reports.ncmec_server import PASSWORD, USER, NcmecServer

pytestmark = pytest.mark.browser
SHOTS = (
    Path(os.environ["HASHGUARD_SCREENSHOTS"]) if os.environ.get("HASHGUARD_SCREENSHOTS") else None
)
# tests/reports/conftest.py's PROFILE, as the operator's TOML file
PROFILE_TOML = """\
espService = "Example Messenger"

[reporter]
legalURL = "https://example.org/legal"

[reporter.reportingPerson]
firstName = "Tess"
lastName = "Safety"
email = "t@example.org"

[internetDetails.chatImIncident]
chatClient = "Example Messenger"
"""


@pytest.fixture
def site(tmp_path: Path, testdata: Path) -> Iterator[tuple[Site, NcmecServer]]:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    db = f"sqlite:///{tmp_path / 'hashguard.db'}"
    store = Store(db)
    receiver = Receiver([SECRET])
    ncmec = NcmecServer()
    key, keys = prepare(store, testdata, tmp_path, receiver.url)
    store.policies.set(REPORT_POLICY, actor="test")
    profile = tmp_path / "reporting.toml"
    profile.write_text(PROFILE_TOML)
    creds = tmp_path / "ncmec.creds"
    creds.write_text(f"{USER}:{PASSWORD}\n")
    creds.chmod(0o600)
    served = Served(
        db,
        tmp_path,
        {
            "HASHGUARD_WEBHOOK_ALLOW_PRIVATE": "1",
            "HASHGUARD_REVIEW_KEYS_FILE": str(keys),
            "HASHGUARD_REPORTING_FILE": str(profile),
            "HASHGUARD_NCMEC_URL": ncmec.url,
            "HASHGUARD_NCMEC_CREDENTIALS_FILE": str(creds),
        },
    )
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=executable, args=["--headless", "--no-sandbox"]
            )
            try:
                yield Site(served, store, key, receiver, testdata, browser), ncmec
            finally:
                browser.close()
    finally:
        served.stop()
        ncmec.close()
        receiver.close()
        store.close()


def _download(page: Any, selector: str) -> Path:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path())


def test_a_lead_submits_a_report_and_downloads_a_year_of_statistics(
    site: tuple[Site, NcmecServer],
) -> None:
    s, ncmec = site
    assert s.upload("sharpen-a-little.jpg", "c1", "chat-1")["verdict"] == "report"
    assert s.upload("sharpen-a-lot.jpg", "c2", "chat-2")["verdict"] == "allow"
    lead = s.login("lena")
    elsewhere: list[str] = []
    lead.on(
        "request", lambda r: None if r.url.startswith(s.served.url) else elsewhere.append(r.url)
    )

    # Confirm the held item: its report is drafted.
    lead.keyboard.press("n")
    lead.wait_for_url("**/console/items/*")
    item_id = int(lead.url.rsplit("/", 1)[1])
    lead.get_by_label("Industry classification (NCMEC)").select_option("A1")
    lead.get_by_role("button", name="Confirm").click()
    lead.wait_for_url("**/console/queue?done=*")

    lead.get_by_role("link", name="Reports").click()
    lead.wait_for_url("**/console/reports")
    (report,) = s.store.reports.recent()
    lead.get_by_role("link", name=f"#{report.id}", exact=True).click()
    lead.wait_for_url(f"**/console/reports/{report.id}")
    assert lead.inner_text("#report-status") == "draft"
    lead.get_by_label("Screen name").fill("night_owl")
    lead.get_by_label("potentialMeme").check()
    lead.get_by_role("button", name="Save the report").click()
    lead.wait_for_url("**?saved=1")
    assert "Saved." in lead.inner_text("main")

    exported = ET.parse(_download(lead, "text=XML (the CyberTipline API's)")).getroot()
    assert exported.tag == "cybertipline"
    assert exported.findtext("report/personOrUserReported/screenName") == "night_owl"
    assert exported.findtext("report/reporter/reportingPerson/email") == "t@example.org"
    assert exported.find("fileDetails/fileAnnotations/potentialMeme") is not None

    lead.get_by_role("button", name="Submit to the CyberTipline").click()
    lead.wait_for_url("**submitted=submitted")
    (ncmec_id,) = ncmec.finished()
    assert lead.inner_text("#report-status") == "submitted"
    assert ncmec_id in lead.inner_text("#ncmec-id")
    assert f"NCMEC report {ncmec_id}" in lead.inner_text("[role=status]")
    assert ncmec.calls == ["submit", "upload", "fileinfo", "finish"]
    sent = ET.fromstring(ncmec.reports[ncmec_id]["xml"])
    assert sent.findtext("personOrUserReported/screenName") == "night_owl"
    assert s.store.reports.get(report.id).preserved_until is not None
    lead.goto(f"{s.served.url}/console/items/{item_id}")
    assert f"report #{report.id} (submitted)" in lead.inner_text("main")

    # The statistics: today's checks are counted (the seen log's writer is ~0.5 s behind).
    today = datetime.now(UTC).date().isoformat()
    wait_for(lambda: sum(r["checked"] for r in s.store.stats.rows(*[datetime.now(UTC).date()]
                                                                  * 2)) >= 2)  # fmt: skip
    lead.get_by_role("link", name="Statistics").click()
    lead.get_by_role("link", name="Last 12 months").click()
    lead.wait_for_selector("svg#chart-checked")
    if SHOTS:
        lead.screenshot(path=str(SHOTS / "stats.png"), full_page=True)
    assert "by week" in lead.inner_text("main")
    for chart in ("checked", "actions", "decisions", "banks"):
        box = lead.locator(f"svg#chart-{chart}").bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 40, chart
    banks = lead.locator("svg#chart-banks rect title").all_text_contents()
    assert "iwf: 2 matched" in banks  # the held item and the 12-bit allow
    summary = lead.input_value("#summary")
    assert "Example Messenger checked 2 items" in summary and "1 report was submitted" in summary

    rows = list(csv.DictReader(_download(lead, "#csv").open(encoding="utf-8")))
    mine = [r for r in rows if r["day"] == today]
    assert sum(int(r["checked"]) for r in mine) == 2
    assert sum(int(r["reports_submitted"]) for r in mine) == 1
    assert {r["bank"] for r in mine if int(r["matched"])} == {"iwf"}
    assert elsewhere == []  # every page, chart and download came from hashguard itself
