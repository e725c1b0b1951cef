"""Spread tracing through the real app, with real images on SQLite and PostgreSQL: every
sighting of the same content (equal digests, or PDQ within the threshold), whatever id each
copy had; summed up by chat, uploader, surface and day; its own scope; 404 for an item never
seen."""

from __future__ import annotations

import json
from pathlib import Path

from hashguard.cli import main
from tests.api.conftest import Service

ORIGINAL = "pdq/bridge-mods/aaa-orig.jpg"
NEAR = "pdq/bridge-mods/shrink-a-little.jpg"  # another file, a few PDQ bits away
OTHER = "pdq/reg-test-input/labelme-subset/q2821.jpg"


def upload(service: Service, data: bytes, **fields: str) -> None:
    files = {"file": ("x.jpg", data, "image/jpeg")}
    answer = service.call("POST", "/v1/match", "match", files=files, data=fields)
    assert answer.status_code == 200, answer.text


def test_spread_finds_every_copy(service: Service, testdata: Path) -> None:
    original, near, other = ((testdata / p).read_bytes() for p in (ORIGINAL, NEAR, OTHER))
    upload(service, original, content_id="c1", chat_id="g1", uploader_id="u1", surface="group")
    upload(service, near, content_id="c2", chat_id="g2", uploader_id="u2", surface="public_channel")
    upload(service, original, content_id="c3", chat_id="g1", uploader_id="u3", surface="group")
    upload(service, other, content_id="c4", chat_id="g1", uploader_id="u1")
    service.engine.store.seen_log.flush()
    got = service.call("GET", "/v1/items/c1/spread", "admin")
    assert got.status_code == 200, got.text
    out = got.json()
    assert out["sightings"] == 3 and out["items"] == 3 and not out["truncated"]
    assert out["found_by"] == {"content_id": 1, "md5": 1, "pdq": 1}  # c3: the same file
    assert [(c["chat_id"], c["sightings"]) for c in out["chats"]] == [("g1", 2), ("g2", 1)]
    assert {u["uploader_id"] for u in out["uploaders"]} == {"u1", "u2", "u3"}
    assert out["surfaces"] == {"group": 2, "public_channel": 1}
    assert out["first_seen"] <= out["last_seen"]
    assert sum(d["sightings"] for d in out["timeline"]) == 3
    assert out["verdicts"] == {"block": 3}  # the bank holds the original's PDQ
    exact = service.call("GET", "/v1/items/c1/spread?pdq_threshold=0", "admin").json()
    assert exact["sightings"] == 2 and "pdq" not in exact["found_by"]
    # the near copy finds the originals the same way
    assert service.call("GET", "/v1/items/c2/spread", "admin").json()["sightings"] == 3


def test_spread_has_its_own_scope_and_404s(service: Service, testdata: Path) -> None:
    upload(service, (testdata / OTHER).read_bytes(), content_id="c9", chat_id="g")
    service.engine.store.seen_log.flush()
    for scope in ("match", "match:distance", "curate"):
        assert service.call("GET", "/v1/items/c9/spread", scope).status_code == 403
    key = service.engine.store.keys.create("tracer", ["spread"], actor="t")[1]
    headers = {"Authorization": f"Bearer {key}"}
    assert service.client.get("/v1/items/c9/spread", headers=headers).status_code == 200
    missing = service.client.get("/v1/items/nope/spread", headers=headers)
    assert missing.status_code == 404 and "never seen" in missing.json()["error"]["message"]
    too_far = service.client.get("/v1/items/c9/spread?pdq_threshold=64", headers=headers)
    assert too_far.status_code == 422


def test_hashguard_spread(
    service: Service,
    testdata: Path,
    monkeypatch,
    capsys,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    upload(service, (testdata / OTHER).read_bytes(), content_id="c7", chat_id="g7")
    service.engine.store.seen_log.flush()
    monkeypatch.setenv("HASHGUARD_DB", service.engine.store.url)
    monkeypatch.setenv("HASHGUARD_INDEX_DIR", str(tmp_path / "cli-idx"))
    monkeypatch.setenv("HASHGUARD_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    assert main(["spread", "c7"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["chats"][0]["chat_id"] == "g7" and out["sightings"] == 1
    assert main(["spread", "nope"]) == 5
