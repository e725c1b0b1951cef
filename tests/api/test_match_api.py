"""POST /v1/match and /v1/match/batch: uploads, precomputed hashes, batches, bad input."""

from __future__ import annotations

import base64
from pathlib import Path

from tests.api.conftest import UPLOAD_LIMIT, Service

BLURRED = "pdq/bridge-mods/blur-a-lot.jpg"


def test_match_multipart_and_raw_body(service: Service, testdata: Path) -> None:
    data = (testdata / BLURRED).read_bytes()
    multipart = service.call(
        "POST", "/v1/match", "match",
        files={"file": ("a.jpg", data, "image/jpeg")}, data={"content_id": "c1"},
    )  # fmt: skip
    raw = service.call(
        "POST", "/v1/match?chat_id=g7", "match",
        content=data, headers={"content-type": "image/jpeg"},
    )  # fmt: skip
    for response in (multipart, raw):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["matches"][0] | {"distance": 0} == {
            "bank": "iwf", "entry": "x1", "signal_type": "pdq", "distance": 0, "category": "A",
        }  # fmt: skip
        assert body["signals"]["pdq_quality"] == 100
    assert multipart.json()["context"] == {"content_id": "c1"}
    assert raw.json()["context"] == {"chat_id": "g7"}


def test_match_precomputed_signals(service: Service, original_pdq: str) -> None:
    near = f"{int(original_pdq[:2], 16) ^ 0x0F:02x}{original_pdq[2:]}"  # 4 bits away
    body = {"signals": [{"type": "pdq", "value": near.upper()}], "uploader_id": "u1"}
    response = service.call("POST", "/v1/match", "match:distance", json=body)
    assert response.status_code == 200, response.text
    out = response.json()
    assert [(m["entry"], m["distance"]) for m in out["matches"]] == [("x1", 4)]
    assert out["signals"] == {"pdq": near}  # canonical form: lower case
    assert out["context"] == {"uploader_id": "u1"}
    miss = {"signals": [{"type": "md5", "value": "0" * 32}]}
    assert service.call("POST", "/v1/match", "match", json=miss).json()["matches"] == []


def test_batch_answers_each_item_in_order(
    service: Service, testdata: Path, original_pdq: str
) -> None:
    image = base64.b64encode((testdata / BLURRED).read_bytes()).decode()
    items = [
        {"signals": [{"type": "pdq", "value": original_pdq}], "content_id": "a"},
        {"content": image, "content_id": "b"},
        {"signals": [{"type": "md5", "value": "nothex"}]},
        {"content": "***"},
        {"signals": [{"type": "sha1", "value": "0" * 40}]},
    ]
    response = service.call("POST", "/v1/match/batch", "match", json={"items": items})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r.get("context") for r in results] == [
        {"content_id": "a"},
        {"content_id": "b"},
        None,
        None,
        None,
    ]
    assert results[0]["matches"][0]["entry"] == "x1"
    assert results[1]["matches"][0]["entry"] == "x1"
    assert results[2]["error"]["type"] == "InvalidSignal"
    assert results[3]["error"]["message"] == "content is not valid base64"
    assert results[4]["matches"] == []
    too_many = {"items": [{"signals": [{"type": "md5", "value": "0" * 32}]}] * 101}
    assert service.call("POST", "/v1/match/batch", "match", json=too_many).status_code == 422


def test_bad_requests_get_clear_errors(service: Service) -> None:
    call = service.call
    too_big = call("POST", "/v1/match", "match", content=b"x" * (UPLOAD_LIMIT + 1))
    assert too_big.status_code == 413 and "limit" in too_big.json()["error"]["message"]

    def chunks():  # no content-length: the limit holds while the body streams in
        for _ in range(3):
            yield b"x" * (UPLOAD_LIMIT // 2)

    streamed = call("POST", "/v1/match", "match", content=chunks())
    assert streamed.status_code == 413
    no_file = call("POST", "/v1/match", "match", files={"other": ("a", b"1")})
    assert no_file.status_code == 422
    assert no_file.json()["error"]["message"] == "multipart upload has no 'file' field"
    malformed = call(
        "POST", "/v1/match", "match",
        content=b'{"signals": [', headers={"content-type": "application/json"},
    )  # fmt: skip
    assert malformed.status_code == 400 and malformed.json()["error"]["type"] == "MalformedBody"
    unknown = call("POST", "/v1/match", "match", json={"signals": [{"type": "nope", "value": "1"}]})
    assert unknown.status_code == 422 and unknown.json()["error"]["type"] == "UnknownSignalType"
    short = call("POST", "/v1/match", "match", json={"signals": [{"type": "pdq", "value": "ab"}]})
    assert short.status_code == 422 and short.json()["error"]["type"] == "InvalidSignal"
    extra = call("POST", "/v1/match", "match", json={"signals": [], "evil": 1})
    assert extra.status_code == 422
    # not an image: still answered, with digests and the reason there is no PDQ
    text = call("POST", "/v1/match", "match", content=b"hello")
    assert text.status_code == 200
    assert text.json()["signals"]["media_error"].startswith("not an image")
    missing = service.client.get("/nope")
    assert missing.json() == {
        "error": {"type": "NotFound", "message": "no route /nope; the API is described at /docs"}
    }
