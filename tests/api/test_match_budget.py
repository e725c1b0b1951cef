"""POST /v1/match/batch: the decoding memory of one batch's images is added up."""

from __future__ import annotations

import base64
import dataclasses
import hashlib

from tests.api.conftest import Service
from tests.helpers import import_text
from tests.media.bombs import png


def test_batch_images_past_the_batch_total_keep_their_digests(service: Service) -> None:
    """Each 1200x1000 RGB image takes 4.8 MB to decode; the batch may take 10 MB: the third
    and fourth get no PDQ (saying why), but their digests are still matched."""
    engine = service.engine
    engine.limits = dataclasses.replace(engine.limits, max_batch_decode_bytes=10_000_000)
    data = png(1200, 1000, colour=2, channels=3)
    md5 = hashlib.md5(data).hexdigest()
    import_text(engine.store, "iwf", f"signal_type,signal,id\nmd5,{md5},m1\n")
    engine.refresh()
    item = {"content": base64.b64encode(data).decode()}
    response = service.call("POST", "/v1/match/batch", "match", json={"items": [item] * 4})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert ["pdq" in r["signals"] for r in results] == [True, True, False, False]
    for r in results[2:]:
        assert "max_batch_decode_bytes" in r["signals"]["media_error"]
    assert all([m["entry"] for m in r["matches"]] == ["m1"] for r in results)
    again = service.call("POST", "/v1/match/batch", "match", json={"items": [item]})
    assert "pdq" in again.json()["results"][0]["signals"]  # each batch has its own total
