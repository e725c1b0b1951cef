"""The console's fixtures: the real app (in-process, over "https" so Secure cookies flow)
on a real store, with a bank listing a reference image, a policy that holds near copies
for review, one account per role, and a webhook receiver on loopback."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from hashguard.api.server import ServeOptions, create_app
from hashguard.content import hash_content
from hashguard.engine import Engine
from hashguard.review.options import ReviewOptions
from hashguard.review.sealing import new_key_line
from hashguard.store.store import Store
from tests.actions.receiver import Receiver
from tests.helpers import import_text

MODS = "pdq/bridge-mods"
PASSWORD = "correct horse battery"
SECRET = "console-webhook-secret"
# iwf lists the original; its copies within 8 bits are held for review, farther ones let
# through; anything in the platform's own bank of confirmed items is blocked.
POLICY = {
    "description": "console tests",
    "keep_for_review": True,
    "suppress_banks": ["false-positives"],
    "guidance": {"A": "Category A: confirm if the image shows <the listed scene>."},
    "rules": [
        {"name": "iwf-near", "verdict": "review", "banks": ["iwf"], "max_distance": 8},
        {"name": "own", "verdict": "block", "banks": ["confirmed"]},
    ],
}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def wait_for(condition: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@dataclass
class Console:
    app: Any
    client: TestClient  # runs the app's lifespan: follower, retro, deliveries
    engine: Engine
    store: Store
    key: str  # a match-scope API key: the platform
    testdata: Path
    receiver: Receiver
    browsers: list[TestClient] = field(default_factory=list)

    def browser(self) -> TestClient:
        """A fresh browser: its own cookie jar."""
        b = TestClient(self.app, base_url="https://testserver", follow_redirects=False)
        self.browsers.append(b)
        return b

    def login(self, name: str, password: str = PASSWORD) -> TestClient:
        b = self.browser()
        page = b.get("/console/login")
        token = CSRF.search(page.text)
        assert token is not None
        r = b.post(
            "/console/login", data={"name": name, "password": password, "csrf": token.group(1)}
        )
        assert r.status_code == 303, r.text
        return b

    def upload(self, name: str, content_id: str, chat: str) -> dict[str, Any]:
        data = (self.testdata / MODS / name).read_bytes()
        r = self.client.post(
            "/v1/match",
            headers={"Authorization": f"Bearer {self.key}"},
            files={"file": (name, data)},
            data={"content_id": content_id, "chat_id": chat, "uploader_id": f"u-{chat}"},
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    def events(self) -> list[dict[str, Any]]:
        return list(self.receiver.applied.values())


def csrf(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found is not None, page.text[:500]
    return found.group(1)


def post_form(b: TestClient, page_url: str, target: str, **fields: str) -> httpx.Response:
    """Fill a form the way a browser does: the token from the page it is on."""
    token = csrf(b.get(page_url))
    return b.post(target, data={"csrf": token, **fields})


def prepare(store: Store, testdata: Path, tmp_path: Path, hook_url: str) -> tuple[str, Path]:
    """The banks, policy, accounts and webhook the tests use; the platform's key and the
    sealing keys file."""
    original = hash_content((testdata / MODS / "aaa-orig.jpg").read_bytes()).pdq
    assert original is not None
    store.create_bank("iwf")
    import_text(store, "iwf", f"signal_type,signal,id,category\npdq,{original.hex()},x1,A\n")
    store.create_bank("confirmed")
    store.create_bank("false-positives")
    store.policies.set(POLICY, actor="test")
    for name, role in (
        ("rita", "reviewer"),
        ("remy", "reviewer"),
        ("lena", "lead"),
        ("ada", "admin"),
    ):
        store.users.add(name, role, PASSWORD, actor="test")
    key = store.keys.create("platform", ["match"], actor="test")[1]
    keys = tmp_path / "review.keys"
    keys.write_text(new_key_line("k1") + "\n")
    keys.chmod(0o600)
    store.webhooks.add(
        "platform",
        hook_url,
        ("review", "block", "report", "decision", "appeal"),
        SECRET,
        actor="test",
    )
    return key, keys


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver([SECRET])
    yield r
    r.close()


@pytest.fixture
def console(store: Store, tmp_path: Path, testdata: Path, receiver: Receiver) -> Iterator[Console]:
    key, keys = prepare(store, testdata, tmp_path, receiver.url)
    engine = Engine(store, index_dir=tmp_path / "idx")
    options = ServeOptions(
        webhook_allow_private=True, deliver_every=0.1, retro_every=0.1, sync_every=0, purge_every=0
    )
    app = create_app(engine, options, ReviewOptions(keys_file=keys))
    with TestClient(app, base_url="https://testserver") as client:
        yield Console(app, client, engine, store, key, testdata, receiver)


# What confirming a held item sends in the flow tests, sorted: its two holdings, the
# decision, two retroactive blocks of earlier copies and the block of the next upload.
CONFIRM_EVENTS = sorted(
    [
        "verdict.review",
        "verdict.review",
        "decision.confirm",
        "verdict.block",
        "verdict.block",
        "verdict.block",
    ]
)


def delivered(receiver: Receiver, at_least: int, *prefixes: str) -> list[str]:
    """The kinds of the events ``receiver`` applied (in arrival order) that start with one
    of ``prefixes`` (any, if none), once ``at_least`` of them have come."""

    def kinds() -> list[str] | None:
        found = [
            e["type"]
            for e in receiver.applied.values()
            if not prefixes or e["type"].startswith(prefixes)
        ]
        return found if len(found) >= at_least else None

    return list(wait_for(kinds))
