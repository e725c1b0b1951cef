"""The console in a real browser (Debian's Chromium, headless) against a real `hashguard
serve` on loopback: log in, work the queue with the keyboard alone, reveal, confirm (the
next upload is blocked, earlier copies are found retroactively, the webhook receives each
event once), false positive, undo, an appeal, a reviewer refused an admin page, a forged
cross-site form refused."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from hashguard.store.store import Store
from tests.actions.receiver import Receiver
from tests.console.browser import Served, Site, caught_up, chromium_path
from tests.console.conftest import (
    CONFIRM_EVENTS,
    delivered,
    prepare,
    wait_for,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def site(tmp_path: Path, testdata: Path) -> Iterator[Site]:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    db = f"sqlite:///{tmp_path / 'hashguard.db'}"
    store = Store(db)
    receiver = Receiver(["console-webhook-secret"])
    key, keys = prepare(store, testdata, tmp_path, receiver.url)
    served = Served(
        db,
        tmp_path,
        {"HASHGUARD_WEBHOOK_ALLOW_PRIVATE": "1", "HASHGUARD_REVIEW_KEYS_FILE": str(keys)},
    )
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=executable, args=["--headless", "--no-sandbox"]
            )
            try:
                yield Site(served, store, key, receiver, testdata, browser)
            finally:
                browser.close()
    finally:
        served.stop()
        receiver.close()
        store.close()


def test_a_moderator_works_the_queue_with_the_keyboard(site: Site) -> None:
    assert site.upload("sharpen-a-lot.jpg", "c0", "chat-0")["verdict"] == "allow"
    held = site.upload("sharpen-a-little.jpg", "c1", "chat-1")
    assert held["verdict"] == "review"
    assert site.upload("sharpen-a-little.jpg", "c1", "chat-2")["verdict"] == "review"
    wait_for(lambda: len(site.store.seen_log.records()) >= 3)

    page = site.login("rita")
    assert "Queue" in page.title()
    page.keyboard.press("n")  # review the next item
    page.wait_for_url("**/console/items/*")
    item_id = int(page.url.rsplit("/", 1)[1].split("?")[0])
    preview = page.locator("img.preview")
    assert "Blurred" in (preview.get_attribute("alt") or "")
    page.keyboard.press("r")  # reveal
    page.wait_for_selector("img.preview.revealed")
    assert site.store.reviews.revealed(site.store.users.get("rita").id, item_id, 0)
    assert "Reveals 1/30" in page.inner_text("header")

    page.keyboard.press("c")  # to the classification
    focused = page.evaluate("document.activeElement.id")
    assert focused == "classification"
    page.keyboard.press("ArrowDown")  # A1
    page.keyboard.press("Tab")  # the category
    page.keyboard.press("Tab")  # Confirm
    assert page.evaluate("document.activeElement.id") == "confirm"
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/queue?done=*")
    assert f"Item {item_id} decided" in page.inner_text("main")
    item = site.store.reviews.get(item_id)
    assert (item.status, item.classification) == ("confirmed", "A1")

    # Blocked on the next upload, and removed where it was seen before.
    caught_up(site)
    assert site.upload("sharpen-a-little.jpg", "c3", "chat-3")["verdict"] == "block"
    retro = wait_for(
        lambda: (
            {r["content_key"] for r in site.store.match_log.records() if r["retroactive"]}
            == {"id:c0", "id:c1"}
        )
    )
    assert retro

    assert sorted(delivered(site.receiver, 6)) == CONFIRM_EVENTS
    time.sleep(0.5)
    assert len(site.receiver.requests) == 6  # each event once

    # A reviewer is refused an admin page, with a page saying so.
    response = page.goto(f"{site.served.url}/console/users")
    assert response is not None and response.status == 403
    assert "admin role" in page.inner_text("main")


def test_false_positive_undo_and_an_appeal(site: Site) -> None:
    site.upload("sharpen-a-little.jpg", "c1", "chat-1")
    page = site.login("rita")
    page.keyboard.press("n")
    page.wait_for_url("**/console/items/*")
    item_id = int(page.url.rsplit("/", 1)[1])
    page.keyboard.press("f")  # to the false-positive note
    page.keyboard.type("a bridge, not the listed scene")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/queue?done=*")
    assert site.store.reviews.get(item_id).status == "false_positive"

    lead = site.login("lena")
    lead.goto(f"{site.served.url}/console/decided")
    lead.get_by_role("button", name=f"Undo the decision on item {item_id}").click()
    lead.wait_for_url(f"**/console/items/{item_id}")
    assert site.store.reviews.get(item_id).status == "open"

    # Confirmed by the lead this time; the platform appeals the block that follows.
    lead.get_by_label("Industry classification (NCMEC)").select_option("B1")
    lead.get_by_role("button", name="Confirm").click()
    lead.wait_for_url("**/console/queue?done=*")
    caught_up(site)
    blocked = site.upload("sharpen-a-little.jpg", "c2", "chat-2")
    assert blocked["verdict"] == "block"
    r = httpx.post(
        f"{site.served.url}/v1/appeals",
        headers={"Authorization": f"Bearer {site.key}"},
        json={"match_id": blocked["match_id"], "reason": "<script>alert(1)</script>"},
    )
    assert r.status_code == 201, r.text
    lead.goto(f"{site.served.url}/console/appeals")
    assert "<script>alert(1)</script>" in lead.inner_text("main")  # shown as text
    lead.get_by_label("Note (needed to overturn)").fill("the sender's own photo")
    lead.get_by_role("button", name="Uphold (the restriction stands)").click()
    lead.wait_for_url("**/console/appeals")
    assert site.store.reviews.appeal_counts() == {"upheld": 1}
    kinds = delivered(site.receiver, 4, "decision.", "appeal.")
    assert kinds == [
        "decision.false_positive",
        "decision.undone",
        "decision.confirm",
        "appeal.upheld",
    ]


class _Evil(BaseHTTPRequestHandler):
    """Another site: a page whose form posts to the console on load."""

    target = ""

    def do_GET(self) -> None:
        body = (
            f'<form id="f" method="post" action="{self.target}">'
            '<input name="action" value="confirm"><input name="csrf" value="guess"></form>'
            '<script>document.getElementById("f").submit()</script>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_forged_cross_site_form_is_refused(site: Site) -> None:
    site.upload("sharpen-a-little.jpg", "c1", "chat-1")
    page = site.login("rita")
    page.keyboard.press("n")
    page.wait_for_url("**/console/items/*")
    item_id = int(page.url.rsplit("/", 1)[1])
    _Evil.target = f"{site.served.url}/console/items/{item_id}/decide"
    evil = ThreadingHTTPServer(("127.0.0.1", 0), _Evil)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        # The same browser profile (rita is logged in) visits the other site.
        other = page.context.new_page()
        with other.expect_response(_Evil.target) as answer:
            other.goto(f"http://127.0.0.1:{evil.server_address[1]}/")
        assert answer.value.status == 403
    finally:
        evil.shutdown()
        evil.server_close()
    assert site.store.reviews.get(item_id).status == "open"
    # And a form of the console's own page with a wrong token is refused too.
    page.evaluate("document.querySelector('#confirm-form input[name=csrf]').value = 'forged'")
    page.get_by_role("button", name="Confirm").click()
    assert "not sent from a page of this console" in page.inner_text("main")
    assert site.store.reviews.get(item_id).status == "open"


def test_the_docs_screenshots_are_made_by_their_script(tmp_path: Path) -> None:
    chromium_path()
    import subprocess
    import sys

    from PIL import Image

    script = Path(__file__).parents[2] / "docs" / "images" / "console_screenshots.py"
    done = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for name in ("console-queue.png", "console-item.png"):
        with Image.open(tmp_path / name) as im:
            assert im.format == "PNG" and im.width == 1280
