"""Banks, entries, imports and the change log over HTTP; every call audited."""

from __future__ import annotations

import json
from pathlib import Path

from tests.api.conftest import ORIGINAL, Service

MD5 = "9e107d9d372bb6826bd81d3542a419d6"


def _match_md5(service: Service, value: str = MD5, scope: str = "match") -> list[dict[str, object]]:
    body = {"signals": [{"type": "md5", "value": value}]}
    response = service.call("POST", "/v1/match", scope, json=body)
    assert response.status_code == 200, response.text
    return response.json()["matches"]  # type: ignore[no-any-return]


def test_banks_lifecycle(service: Service) -> None:
    call = service.call
    made = call("POST", "/v1/banks", json={"name": "ours", "pdq_threshold": 20})
    assert made.status_code == 201 and made.json()["pdq_threshold"] == 20
    assert call("POST", "/v1/banks", json={"name": "ours"}).status_code == 409
    assert call("POST", "/v1/banks", json={"name": "bad name!"}).status_code == 422
    assert call("POST", "/v1/banks", json={"name": "x", "pdq_threshold": 500}).status_code == 422
    names = [b["name"] for b in call("GET", "/v1/banks").json()["banks"]]
    assert names == ["iwf", "ours"]
    assert call("GET", "/v1/banks/iwf").json()["entries"] == {"active": 1}
    assert call("GET", "/v1/banks/nope").status_code == 404
    patched = call("PATCH", "/v1/banks/ours", json={"enabled": False, "pdq_threshold": 10})
    assert patched.json() == {
        "name": "ours",
        "pdq_threshold": 10,
        "thresholds": {"pdq": 10},
        "enabled": False,
        "match_fields": ["category", "severity"],
        "entries": None,
    }
    assert call("PATCH", "/v1/banks/ours", json={"pdq_threshold": -1}).status_code == 422
    deleted = call("DELETE", "/v1/banks/iwf")
    assert deleted.json() == {"deleted": "iwf", "entries_retracted": 1}
    assert call("GET", "/v1/banks/iwf").status_code == 404
    assert call("POST", "/v1/banks", json={"name": "iwf"}).status_code == 201  # name is free again
    assert call("GET", "/v1/banks/iwf").json()["entries"] == {}
    audit = call("GET", "/v1/audit", "admin").json()["records"]
    bank_actions = [(r["action"], r["target"]) for r in audit if r["action"].startswith("bank.")]
    assert bank_actions[-4:] == [
        ("bank.create", "ours"), ("bank.update", "ours"), ("bank.delete", "iwf"),
        ("bank.create", "iwf"),
    ]  # fmt: skip
    assert all(r["actor"] == "key:test-curate" for r in audit if r["action"] == "bank.delete")


def test_deleted_or_disabled_bank_stops_matching(service: Service, original_pdq: str) -> None:
    body = {"signals": [{"type": "pdq", "value": original_pdq}]}
    assert service.call("POST", "/v1/match", "match", json=body).json()["matches"]
    service.call("PATCH", "/v1/banks/iwf", json={"enabled": False})
    service.engine.refresh()
    assert service.call("POST", "/v1/match", "match", json=body).json()["matches"] == []
    service.call("PATCH", "/v1/banks/iwf", json={"enabled": True})
    service.engine.refresh()
    assert service.call("POST", "/v1/match", "match", json=body).json()["matches"]
    service.call("DELETE", "/v1/banks/iwf")
    # no refresh: matched entries are checked against the store before they are reported
    assert service.call("POST", "/v1/match", "match", json=body).json()["matches"] == []


def test_entries_added_read_and_retracted(service: Service) -> None:
    call = service.call
    entry = {"id": "e1", "signals": [{"type": "md5", "value": MD5.upper()}],
             "metadata": {"category": "B", "note": "seen twice", "source_ref": "r9"}}  # fmt: skip
    added = call("POST", "/v1/banks/iwf/entries", json=entry)
    assert added.status_code == 201, added.text
    assert added.json()["report"]["signals_added"] == 1
    service.engine.refresh()
    # a match key sees what the bank shows match keys: by default not the note or extra columns
    [m] = _match_md5(service)
    assert m == {"bank": "iwf", "entry": "e1", "signal_type": "md5", "category": "B"}
    call("PATCH", "/v1/banks/iwf", json={"match_fields": ["category", "note", "extra"]})
    service.engine.refresh()
    [m] = _match_md5(service, scope="match:distance")
    assert m == {"bank": "iwf", "entry": "e1", "signal_type": "md5", "distance": 0,
                 "category": "B", "note": "seen twice", "extra": {"source_ref": "r9"}}  # fmt: skip
    got = call("GET", "/v1/banks/iwf/entries/e1").json()
    assert got["signals"] == [{"type": "md5", "value": MD5}] and got["status"] == "active"
    assert call("GET", "/v1/banks/iwf/entries/nope").status_code == 404
    # an acknowledged retraction never matches again, even before this process refreshes
    retracted = call("DELETE", "/v1/banks/iwf/entries/e1")
    assert retracted.json()["status"] == "retracted"
    assert _match_md5(service) == []
    bad = call(
        "POST", "/v1/banks/iwf/entries", json={**entry, "signals": [{"type": "md5", "value": "z"}]}
    )
    assert bad.status_code == 422 and "line 1" in bad.json()["error"]["message"]
    assert call("POST", "/v1/banks/nope/entries", json=entry).status_code == 404
    no_signals = call("POST", "/v1/banks/iwf/entries", json={"id": "e2"})
    assert no_signals.status_code == 422 and "signals" in no_signals.json()["error"]["message"]


def test_entry_added_by_upload_stores_only_hashes(service: Service, testdata: Path) -> None:
    data = (testdata / ORIGINAL).read_bytes()
    added = service.call(
        "POST", "/v1/banks/iwf/entries",
        files={"file": ("x.jpg", data, "image/jpeg")}, data={"id": "up1", "category": "C"},
    )  # fmt: skip
    assert added.status_code == 201, added.text
    types = sorted(s["type"] for s in added.json()["entry"]["signals"])
    assert types == ["md5", "pdq", "sha1", "sha256"]
    service.engine.refresh()
    matched = service.call("POST", "/v1/match", "match", files={"file": ("y.jpg", data)})
    assert {m["entry"] for m in matched.json()["matches"]} == {"x1", "up1"}


def test_import_is_atomic_and_reports_every_bad_line(service: Service) -> None:
    good = f"signal_type,signal,id\nmd5,{MD5},L1\nsha1,{'a' * 40},L2\n"
    multipart = service.call(
        "POST", "/v1/banks/iwf/import", files={"file": ("list.csv", good.encode(), "text/csv")}
    )
    assert multipart.status_code == 200, multipart.text
    assert multipart.json()["entries_added"] == 2
    again = service.call(
        "POST", "/v1/banks/iwf/import?format=csv", content=good.encode(),
        headers={"content-type": "text/csv"},
    )  # fmt: skip
    assert again.json()["entries_added"] == 0 and again.json()["first_seq"] is None
    jsonl = "\n".join(json.dumps(r) for r in [
        {"signal_type": "md5", "signal": "b" * 32, "id": "J1"},
        {"signal_type": "md5", "signal": "nothex", "id": "J2"},
        {"signal_type": "nope", "signal": "1", "id": "J3"},
    ])  # fmt: skip
    rejected = service.call(
        "POST", "/v1/banks/iwf/import", content=jsonl.encode(),
        headers={"content-type": "application/x-ndjson"},
    )  # fmt: skip
    assert rejected.status_code == 422
    message = rejected.json()["error"]["message"]
    assert "line 2" in message and "line 3" in message and "nothing was imported" in message
    assert _match_md5(service, "b" * 32) == []
    unknown_format = service.call("POST", "/v1/banks/iwf/import", content=b"x")
    assert (
        unknown_format.status_code == 422 and "format" in unknown_format.json()["error"]["message"]
    )
    assert service.call("POST", "/v1/banks/nope/import", content=b"x").status_code == 404


def test_change_log_pages(service: Service) -> None:
    rows = "".join(f"md5,{i:032x},c{i}\n" for i in range(5))
    service.call(
        "POST", "/v1/banks/iwf/import?format=csv", content=f"signal_type,signal,id\n{rows}".encode()
    )
    first = service.call("GET", "/v1/changes?after=0&limit=4").json()
    assert [c["kind"] for c in first["changes"]] == ["bank", "add", "add", "add"]
    assert first["changes"][1] == {"seq": 2, "kind": "add", "bank": "iwf", "signal_type": "pdq",
                                   "value": first["changes"][1]["value"]}  # fmt: skip
    rest = service.call("GET", f"/v1/changes?after={first['next']}").json()
    assert len(rest["changes"]) == 3 and rest["next"] == rest["last_seq"] == 7
    assert service.call("GET", "/v1/changes?after=-1").status_code == 422


def test_wrong_content_types_are_named(service: Service) -> None:
    for method, url, scope in (
        ("POST", "/v1/banks", "curate"),
        ("PATCH", "/v1/banks/iwf", "curate"),
        ("POST", "/v1/keys", "admin"),
        ("POST", "/v1/match/batch", "match"),
    ):
        sent = service.call(
            method, url, scope, content=b"name=x", headers={"content-type": "text/plain"}
        )
        assert sent.status_code == 415, (url, sent.text)
        assert "application/json" in sent.json()["error"]["message"]
    bad_utf8 = service.call(
        "POST", "/v1/banks", content=b"\xff\xfe{", headers={"content-type": "application/json"}
    )
    assert bad_utf8.status_code == 400  # does not parse: see api/errors.py
    assert bad_utf8.json()["error"]["type"] == "MalformedBody"
