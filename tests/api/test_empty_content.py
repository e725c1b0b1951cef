"""Empty content is never an entry, and never a match: every empty body would otherwise be
"known material" once one was listed."""

from __future__ import annotations

import base64
import hashlib

from tests.api.conftest import Service
from tests.helpers import import_text

EMPTY_MD5 = hashlib.md5(b"").hexdigest()


def test_an_empty_upload_cannot_be_listed(service: Service) -> None:
    for upload in (
        {"files": {"file": ("empty.jpg", b"", "image/jpeg")}, "data": {"id": "e0"}},
        {"content": b"", "headers": {"content-type": "application/octet-stream"}},
    ):
        r = service.call("POST", "/v1/banks/iwf/entries", **upload)  # type: ignore[arg-type]
        assert r.status_code == 422, r.text
        assert "empty (0 bytes)" in r.json()["error"]["message"]
    assert service.call("GET", "/v1/banks/iwf/entries/e0").status_code == 404


def test_empty_content_matches_nothing_and_says_why(service: Service) -> None:
    # a list that (wrongly) holds the digest of no bytes
    import_text(service.engine.store, "iwf", f"signal_type,signal,id\nmd5,{EMPTY_MD5},nothing\n")
    service.engine.refresh()
    r = service.call("POST", "/v1/match", "match", files={"file": ("e.jpg", b"")})
    assert r.status_code == 200 and r.json()["matches"] == []
    assert "empty (0 bytes)" in r.json()["note"]
    batch = service.call(
        "POST", "/v1/match/batch", "match",
        json={"items": [{"content": ""}, {"content": base64.b64encode(b"x").decode()}]},
    )  # fmt: skip
    assert batch.status_code == 200, batch.text
    first, second = batch.json()["results"]
    assert first["matches"] == [] and "empty (0 bytes)" in first["note"]
    assert "note" not in second or second["note"] is None
    # the digest itself, given as a signal, is matched as listed
    by_signal = service.call(
        "POST", "/v1/match", "match", json={"signals": [{"type": "md5", "value": EMPTY_MD5}]}
    )
    assert [m["entry"] for m in by_signal.json()["matches"]] == ["nothing"]
