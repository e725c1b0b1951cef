"""A real `hashguard serve` on loopback and Debian's Chromium driven by Playwright (its
driver only: the browser is the system's, started ``--headless --no-sandbox``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from hashguard.store.store import Store
from tests.actions.receiver import Receiver
from tests.console.conftest import MODS, PASSWORD, wait_for
from tests.helpers import free_port, wait_ready

CHROMIUM = os.environ.get("HASHGUARD_CHROMIUM", "/usr/bin/chromium")
REQUIRE = "HASHGUARD_REQUIRE_BROWSER"  # set by .ci/run: a missing browser fails, not skips


def chromium_path() -> str:
    """The browser to drive, or the test is skipped (failed under REQUIRE)."""
    found = shutil.which(CHROMIUM) or (CHROMIUM if Path(CHROMIUM).exists() else None)
    problem = None
    if found is None:
        problem = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            problem = "Playwright for Python is not installed (pip install -e '.[test]')"
    if problem is not None:
        if os.environ.get(REQUIRE):
            pytest.fail(f"browser tests must run here ({REQUIRE} is set): {problem}")
        pytest.skip(problem)
    assert found is not None
    return found


class Served:
    """`hashguard serve` in a process of its own, on a loopback port."""

    def __init__(self, db: str, tmp: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (tmp / "serve.log").open("wb")
        full = {**os.environ, "HASHGUARD_INDEX_DIR": str(tmp / "idx"), **env}
        full.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hashguard.cli", "--db", db, "serve", "--port", str(self.port)],
            env=full,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.tmp = tmp
        wait_ready(self.process, self.url, (tmp / "serve.log").read_text)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@dataclass
class Site:
    served: Served
    store: Store
    key: str
    receiver: Receiver
    testdata: Path
    browser: Any

    def upload(self, name: str, content_id: str, chat: str) -> dict[str, Any]:
        data = (self.testdata / MODS / name).read_bytes()
        r = httpx.post(
            f"{self.served.url}/v1/match",
            headers={"Authorization": f"Bearer {self.key}"},
            files={"file": (name, data)},
            data={"content_id": content_id, "chat_id": chat, "uploader_id": f"u-{chat}"},
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    def page(self) -> Any:
        """A new browser profile (its own cookies) and a page in it."""
        context = self.browser.new_context(viewport={"width": 1366, "height": 900})
        return context.new_page()

    def login(self, name: str) -> Any:
        page = self.page()
        page.goto(f"{self.served.url}/console/")
        assert "/console/login" in page.url
        page.wait_for_selector("#name:focus")
        # The keyboard alone: the name field has the focus.
        page.keyboard.type(name)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: urlsplit(url).path == "/console/queue")
        return page


def caught_up(site: Site) -> None:
    """Until the server answers with what the store holds (its follower is ~ms behind)."""
    want = site.store.last_seq()
    wait_for(lambda: httpx.get(f"{site.served.url}/v1/ready").json()["index_seq"] >= want)
