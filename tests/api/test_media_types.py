"""Media types are case-insensitive (RFC 9110, 8.3.1): ``Application/JSON`` is JSON on every
route, ``Multipart/Form-Data`` is an upload, ``Text/CSV`` is a CSV list."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.api.conftest import ORIGINAL, Service

MD5 = "9e107d9d372bb6826bd81d3542a419d6"


def _multipart(fields: dict[str, str], data: bytes, media: str) -> tuple[bytes, str]:
    """A multipart body as httpx encodes it, and its content type with the media type
    spelled ``media``."""
    request = httpx.Request(
        "POST", "http://x/", data=fields, files={"file": ("a.jpg", data, "image/jpeg")}
    )
    boundary = request.headers["content-type"].split("boundary=", 1)[1]
    return request.read(), f"{media}; boundary={boundary}"


def test_json_in_any_case_is_json_on_match(service: Service, original_pdq: str) -> None:
    body = json.dumps({"signals": [{"type": "pdq", "value": original_pdq}]}).encode()
    for media in ("Application/JSON", "APPLICATION/JSON; charset=UTF-8", "application/json"):
        response = service.call(
            "POST", "/v1/match", "match", content=body, headers={"content-type": media}
        )
        assert response.status_code == 200, response.text
        assert [m["entry"] for m in response.json()["matches"]] == ["x1"], media
        assert response.json()["signals"] == {"pdq": original_pdq}


def test_json_in_any_case_is_json_on_entries(service: Service) -> None:
    body = json.dumps({"id": "e1", "signals": [{"type": "md5", "value": MD5}]}).encode()
    added = service.call(
        "POST", "/v1/banks/iwf/entries", content=body, headers={"content-type": "Application/JSON"}
    )
    assert added.status_code == 201, added.text
    entry = added.json()["entry"]
    assert entry["id"] == "e1" and entry["signals"] == [{"type": "md5", "value": MD5}]


def test_multipart_in_any_case_is_an_upload(service: Service, testdata: Path) -> None:
    image = (testdata / ORIGINAL).read_bytes()
    body, media = _multipart({"content_id": "c1"}, image, "Multipart/Form-Data")
    matched = service.call(
        "POST", "/v1/match", "match", content=body, headers={"content-type": media}
    )
    assert matched.status_code == 200, matched.text
    assert [m["entry"] for m in matched.json()["matches"]] == ["x1"]
    assert matched.json()["context"] == {"content_id": "c1"}

    body, media = _multipart({"id": "photo", "category": "B"}, image, "MULTIPART/form-data")
    added = service.call(
        "POST", "/v1/banks/iwf/entries", content=body, headers={"content-type": media}
    )
    assert added.status_code == 201, added.text
    entry = added.json()["entry"]
    assert entry["id"] == "photo" and entry["metadata"] == {"category": "B"}


def test_list_media_types_in_any_case(service: Service) -> None:
    rows = f"signal_type,signal,id\nmd5,{MD5},e1\n".encode()
    imported = service.call(
        "POST", "/v1/banks/iwf/import", content=rows, headers={"content-type": "Text/CSV"}
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["entries_added"] == 1
    jsonl = json.dumps({"signal_type": "md5", "signal": "f" * 32, "id": "e2"}).encode() + b"\n"
    imported = service.call(
        "POST", "/v1/banks/iwf/import", content=jsonl,
        headers={"content-type": "Application/X-NDJSON"},
    )  # fmt: skip
    assert imported.status_code == 200, imported.text
    assert imported.json()["entries_added"] == 1
