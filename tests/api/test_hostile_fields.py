"""NUL characters and lone surrogates in the fields of entries and lists sent over HTTP:
refused with a clear error on SQLite and PostgreSQL alike, never a 500: a NUL passes the JSON
parser and is refused by validation (422); a lone surrogate escape is refused by the JSON parser
itself, so the body is malformed (400, as every route answers a body that does not parse)."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import Service

MD5 = "9e107d9d372bb6826bd81d3542a419d6"
ESCAPES = ["\\u0000", "\\ud800"]


def _raw_json(body: dict[str, object], escape: str) -> bytes:
    """JSON text with the escape put where the marker X is (json.dumps would not make it)."""
    return json.dumps(body).replace("X", escape).encode()


@pytest.mark.parametrize("escape", ESCAPES)
@pytest.mark.parametrize("where", ["id", "category", "note", "extra", "value"])
def test_hostile_text_in_an_entry_is_a_422(service: Service, escape: str, where: str) -> None:
    metadata = {"category": "A", "note": "n", "source_ref": "r"}
    entry: dict[str, object] = {"id": "e1", "signals": [{"type": "md5", "value": MD5}]}
    if where == "id":
        entry["id"] = "eX"
    elif where == "value":
        entry["signals"] = [{"type": "keyword", "value": "bluefalconX"}]
    else:
        metadata[{"extra": "source_ref"}.get(where, where)] = "X"
    entry["metadata"] = metadata
    r = service.call(
        "POST", "/v1/banks/iwf/entries", content=_raw_json(entry, escape),
        headers={"content-type": "application/json"},
    )  # fmt: skip
    expected = (422, "ListRejected") if escape == "\\u0000" else (400, "MalformedBody")
    assert (r.status_code, r.json()["error"]["type"]) == expected, r.text
    assert "line 1" in r.json()["error"]["message"]
    assert service.call("GET", "/v1/banks/iwf/entries/e1").status_code == 404


@pytest.mark.parametrize("escape", ["%00", "%ED%A0%80"])
def test_hostile_entry_ids_in_the_path_are_a_422_or_404(service: Service, escape: str) -> None:
    r = service.call("GET", f"/v1/banks/iwf/entries/e{escape}1")
    assert r.status_code in (404, 422), r.text


@pytest.mark.parametrize("escape", ESCAPES)
def test_hostile_text_in_an_imported_list_is_a_bad_row(service: Service, escape: str) -> None:
    lines = [
        json.dumps({"signal_type": "md5", "signal": MD5, "id": "J1"}),
        json.dumps({"signal_type": "md5", "signal": "b" * 32, "id": "J2", "note": "X"}),
    ]
    body = "\n".join(lines).replace("X", escape).encode()
    r = service.call(
        "POST", "/v1/banks/iwf/import?format=jsonl", content=body,
        headers={"content-type": "application/x-ndjson"},
    )  # fmt: skip
    assert r.status_code == 422, r.text
    assert "line 2: note contains" in r.json()["error"]["message"]
    assert service.call("GET", "/v1/banks/iwf/entries/J1").status_code == 404  # nothing applied


def test_a_nul_byte_in_an_imported_csv_is_a_bad_row(service: Service) -> None:
    body = f"signal_type,signal,id\nmd5,{MD5},C\x001\n".encode()
    r = service.call(
        "POST", "/v1/banks/iwf/import?format=csv", content=body,
        headers={"content-type": "text/csv"},
    )  # fmt: skip
    assert r.status_code == 422 and "line 2: contains a NUL byte" in r.json()["error"]["message"]
