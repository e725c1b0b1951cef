"""Regenerate the console screenshots in this folder: `python docs/images/console_screenshots.py`
from the repository's root (needs Debian's Chromium and the test extras).

It sets up a throwaway store with the tests' benign reference images (a bank listing one,
near copies held for review), runs a real `hashguard serve`, logs in as a reviewer and
photographs the queue and an item page (its preview blurred, as a reviewer first sees it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.conftest import TESTDATA  # noqa: E402
from tests.console.browser import CHROMIUM, Served  # noqa: E402
from tests.console.conftest import MODS, PASSWORD, prepare  # noqa: E402

UPLOADS = [  # (file, content id, chat): near copies of the listed picture, held
    ("sharpen-a-little.jpg", "photo-8812", "chat-41"),
    ("sharpen-a-little.jpg", "photo-8812", "chat-77"),
    ("high-saturation.jpg", "photo-9034", "chat-12"),
    ("shrink-a-little.jpg", "photo-9120", "chat-41"),
]


def main(out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from hashguard.store.store import Store

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        db = f"sqlite:///{tmp / 'demo.db'}"
        store = Store(db)
        key, keys = prepare(store, TESTDATA, tmp, "http://127.0.0.1:9/unused")
        served = Served(db, tmp, {"HASHGUARD_REVIEW_KEYS_FILE": str(keys)})
        try:
            for name, content_id, chat in UPLOADS:
                data = (TESTDATA / MODS / name).read_bytes()
                httpx.post(f"{served.url}/v1/match", headers={"Authorization": f"Bearer {key}"},
                           files={"file": (name, data)},
                           data={"content_id": content_id, "chat_id": chat,
                                 "uploader_id": f"user-{chat[-2:]}"}).raise_for_status()
            shots = []
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM,
                                            args=["--headless", "--no-sandbox"])
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(f"{served.url}/console/login")
                page.fill("#name", "rita")
                page.fill("#password", PASSWORD)
                page.press("#password", "Enter")
                page.wait_for_selector("table")
                shots.append(out / "console-queue.png")
                page.screenshot(path=str(shots[-1]), full_page=True)
                page.keyboard.press("n")
                page.wait_for_selector("img.preview")
                page.wait_for_load_state("networkidle")
                shots.append(out / "console-item.png")
                page.screenshot(path=str(shots[-1]), full_page=True)
                browser.close()
            return shots
        finally:
            served.stop()
            store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    for shot in main(parser.parse_args().out):
        print(shot)
