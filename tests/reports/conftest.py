"""The reports' fixtures: the console's app and accounts, under a policy that reports near
copies of a listed image, with a reporting profile (the platform as reporter)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hashguard.api.server import ServeOptions, create_app
from hashguard.engine import Engine
from hashguard.reports.options import ReportOptions
from hashguard.review.options import ReviewOptions
from hashguard.store.store import Store
from tests.actions.receiver import Receiver
from tests.console.conftest import POLICY, Console, post_form, prepare
from tests.reports.ncmec_server import NcmecServer

REPORT_POLICY = {
    **POLICY,
    "rules": [
        {"name": "iwf-near", "verdict": "report", "banks": ["iwf"], "max_distance": 8},
        {"name": "own", "verdict": "block", "banks": ["confirmed"]},
    ],
}
PROFILE: dict[str, Any] = {
    "reporter": {
        "reportingPerson": {"firstName": "Tess", "lastName": "Safety", "email": "t@example.org"},
        "legalURL": "https://example.org/legal",
    },
    "internetDetails": {"chatImIncident": {"chatClient": "Example Messenger"}},
    "espService": "Example Messenger",
}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(["console-webhook-secret"])
    yield r
    r.close()


@pytest.fixture
def ncmec() -> Iterator[NcmecServer]:
    server = NcmecServer()
    yield server
    server.close()


@pytest.fixture
def reporting(
    store: Store, tmp_path: Path, testdata: Path, receiver: Receiver
) -> Iterator[Console]:
    key, keys = prepare(store, testdata, tmp_path, receiver.url)
    store.policies.set(REPORT_POLICY, actor="test")
    compliance = store.keys.create("compliance", ["report"], actor="test")[1]
    engine = Engine(store, index_dir=tmp_path / "idx")
    options = ServeOptions(deliver_every=0, retro_every=0, sync_every=0, purge_every=0)
    app = create_app(engine, options, ReviewOptions(keys_file=keys), ReportOptions(profile=PROFILE))
    with TestClient(app, base_url="https://testserver") as client:
        c = Console(app, client, engine, store, key, testdata, receiver)
        c.compliance = compliance  # type: ignore[attr-defined]
        yield c


def confirm(c: Console, item_id: int, classification: str = "A1") -> None:
    lead = c.login("lena")
    r = post_form(
        lead, f"/console/items/{item_id}", f"/console/items/{item_id}/decide",
        action="confirm", classification=classification, category="A",
    )  # fmt: skip
    assert r.status_code == 303, r.text
