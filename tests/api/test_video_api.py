"""Issue 13's bar, through the real HTTP app and the CLI: a bank listing one clip (its vPDQ,
from the uploaded clip) and one still (its PDQ: the ``iwf`` bank of the service fixture)
catches every copy of the clip, and a video showing the still."""

from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.api.conftest import ORIGINAL, Service
from tests.helpers import run_cli
from tests.video_clips import clip_of, frame_at

COPIES = ("smaller", "grey", "sepia", "small-logo", "trimmed", "letterboxed")


def _leftovers() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "hashguard-upload-*")))


@pytest.fixture
def listed(service: Service, video_copies: dict[str, Path]) -> Service:
    service.call("POST", "/v1/banks", json={"name": "videos"}).raise_for_status()
    original = video_copies["original"].read_bytes()
    added = service.call(
        "POST", "/v1/banks/videos/entries",
        files={"file": ("chair.mp4", original, "video/mp4")}, data={"id": "chair"},
    )  # fmt: skip
    assert added.status_code == 201, added.text
    types = [s["type"] for s in added.json()["entry"]["signals"]]
    assert types.count("vpdq") == 2 and "md5" in types  # its frames, and inside its bars
    service.engine.refresh()
    return service


def _with_still(testdata: Path, video_copies: dict[str, Path], out: Path) -> Path:
    photo = np.asarray(Image.open(testdata / ORIGINAL).convert("RGB"))
    other = Image.fromarray(frame_at(video_copies["doorknob"], 1.0))
    other_a = np.asarray(other.resize((photo.shape[1], photo.shape[0])))
    return clip_of([(other_a, 2.0), (photo, 2.0), (other_a, 1.0)], out)


def test_every_copy_and_a_video_showing_the_still_are_caught_over_http(
    listed: Service, video_copies: dict[str, Path], testdata: Path, tmp_path: Path
) -> None:
    before = _leftovers()
    for n, copy in enumerate(COPIES):
        data = video_copies[copy].read_bytes()
        if n % 2:  # the raw body, and multipart: both streamed to disk
            r = listed.call(
                "POST", "/v1/match", "match:distance",
                content=data, headers={"content-type": "video/mp4"},
            )  # fmt: skip
        else:
            r = listed.call(
                "POST", "/v1/match", "match:distance",
                files={"file": (f"{copy}.mp4", data, "video/mp4")}, data={"content_id": copy},
            )  # fmt: skip
        assert r.status_code == 200, r.text
        body = r.json()
        found = [m for m in body["matches"] if m["signal_type"] == "vpdq"]
        assert [m["entry"] for m in found] == ["chair"], (copy, body["matches"])
        assert found[0]["query_match_percent"] >= 80 and found[0]["query_ranges"]
        assert body["verdict"] != "allow" and body["signals"]["vpdq"]["frames"] >= 1
    showing = _with_still(testdata, video_copies, tmp_path / "still.mp4")
    r = listed.call("POST", "/v1/match", "match", files={"file": ("s.mp4", showing.read_bytes())})
    matches = r.json()["matches"]
    assert [(m["bank"], m["entry"], m["signal_type"]) for m in matches] == [("iwf", "x1", "pdq")]
    assert 2.0 <= matches[0]["frame_time"] < 4.0
    assert "query_match_percent" not in str(matches)  # shares are for distance keys
    assert _leftovers() <= before  # every upload's temporary file is gone


def test_unrelated_clips_and_bad_videos_over_http(listed: Service, video_copies: dict) -> None:
    for other in ("doorknob", "padded"):
        data = video_copies[other].read_bytes()
        r = listed.call("POST", "/v1/match", "match", files={"file": ("o.mp4", data)})
        assert r.status_code == 200 and r.json()["matches"] == []
    corrupt = b"\x00\x00\x00\x18ftypmp42" + bytes(5000)
    r = listed.call("POST", "/v1/match", "match", content=corrupt)
    assert r.status_code == 200
    assert r.json()["signals"]["media_error"].startswith("not a video hashguard reads")
    assert listed.client.get("/v1/health").status_code == 200  # and it keeps serving


def test_a_video_over_its_limit_is_refused_and_leaves_no_file(
    listed: Service, video_copies: dict
) -> None:
    from dataclasses import replace

    engine = listed.engine
    small = replace(engine.video, limits=replace(engine.video.limits, max_bytes=100_000))
    engine.video = small
    before = _leftovers()

    def chunks():  # no content-length: refused while it streams in
        data = video_copies["original"].read_bytes()
        for i in range(0, len(data), 65536):
            yield data[i : i + 65536]

    r = listed.call("POST", "/v1/match", "match", content=chunks())
    assert r.status_code == 413 and "max_video_bytes" in r.json()["error"]["message"]
    assert _leftovers() <= before


def test_the_cli_catches_the_copies_too(
    listed: Service, video_copies: dict[str, Path], testdata: Path, tmp_path: Path
) -> None:
    db = listed.engine.store.url  # type: ignore[attr-defined]
    paths = [str(video_copies[c]) for c in COPIES]
    showing = _with_still(testdata, video_copies, tmp_path / "still.mp4")
    others = [str(showing), str(video_copies["padded"])]
    code, lines, err = run_cli(tmp_path, "match", *paths, *others, db=db)
    assert code == 0, err
    for line in lines[: len(COPIES)]:
        assert [m["entry"] for m in line["matches"] if m["signal_type"] == "vpdq"] == ["chair"]
    assert [m["entry"] for m in lines[len(COPIES)]["matches"]] == ["x1"]
    assert lines[-1]["matches"] == []


def test_a_batch_takes_a_video_among_its_items(listed: Service, video_copies: dict) -> None:
    import base64

    clip = base64.b64encode(video_copies["smaller"].read_bytes()).decode()
    items = [{"content": clip, "content_id": "v"}, {"content": base64.b64encode(b"x").decode()}]
    r = listed.call("POST", "/v1/match/batch", "match", json={"items": items})
    assert r.status_code == 200, r.text
    video, other = r.json()["results"]
    assert [m["entry"] for m in video["matches"] if m["signal_type"] == "vpdq"] == ["chair"]
    assert other["matches"] == []
