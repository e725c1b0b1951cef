"""vPDQ: the list forms it reads, conformance to the reference hashes, and matching real
copies of a real clip (and stills) through the engine on a real store."""

from __future__ import annotations

import io
import json
import statistics
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hashguard.engine import Engine
from hashguard.errors import InvalidSignal, InvalidValue
from hashguard.lists.rows import entry_rows
from hashguard.media.video import Video
from hashguard.signals.pdq import hamming
from hashguard.signals.registry import default_registry
from hashguard.signals.vpdq import Vpdq, frame_hashes, parse_frames
from hashguard.store.store import Store
from tests.conftest import PDQ_DATA, TESTDATA, VIDEOS
from tests.video_clips import clip_of, frame_at

VPDQ = Vpdq()
REFERENCE = TESTDATA / "vpdq" / "sample-hashes"
HEX = "e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c"


# list forms


def test_the_reference_tools_frame_lines_are_read() -> None:
    text = (REFERENCE / "chair-19-sd-bar.txt").read_text()
    frames = parse_frames(text)
    assert len(frames) == 564 and frames[0].pdq.hex() == HEX and frames[1].time == 0.033
    canonical = VPDQ.parse(text)
    assert json.loads(canonical)[0] == f"{HEX},100,0.000"
    assert VPDQ.parse(canonical) == canonical  # canonical is a fixed point


def test_python_threatexchanges_serialized_form_is_read_without_loss() -> None:
    # vpdq_util.vpdq_to_json: a JSON list of "pdq_hex,quality,timestamp" (3 significant
    # digits of time).
    serialized = json.dumps([f"{HEX},100,0.0", f"{'0' * 63}1,49,12.3"])
    frames = parse_frames(serialized)
    assert [(f.pdq.hex(), f.quality, f.time) for f in frames] == [
        (HEX, 100, 0.0),
        ("0" * 63 + "1", 49, 12.3),
    ]
    assert json.loads(VPDQ.parse(serialized)) == [f"{HEX},100,0.000", f"{'0' * 63}1,49,12.300"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "at least one frame"),
        ("[]", "at least one frame"),
        ('{"a": 1}', "must be a list"),
        ("[not json", "does not parse"),
        (
            json.dumps([f"{HEX[:-2]},100,0.0"]),
            "frame 0: the PDQ hash must be 64 hex digits, got 62",
        ),
        (json.dumps([f"{HEX},101,0.0"]), "quality must be from 0 to 100, not 101"),
        (json.dumps([f"{HEX},100,-1"]), "timestamp must be a number of seconds >= 0"),
        (json.dumps([f"{HEX},100,nan"]), "timestamp must be a number of seconds >= 0"),
        (json.dumps([f"{HEX},100"]), "frame 0: expected pdq_hex,quality,timestamp"),
        (f"0,100,{HEX},0.000\n1,100,{'z' * 64},0.033", "frame line 2: the PDQ hash must be hex"),
        (f"0,100,{HEX}", "frame line 1: expected frame_number,quality,pdq_hex,timestamp"),
    ],
)
def test_bad_vpdq_values_are_refused_with_the_frame_named(raw: str, message: str) -> None:
    with pytest.raises(InvalidSignal, match=message.replace("(", r"\(")):
        VPDQ.parse(raw)


def test_a_list_with_a_bad_vpdq_row_names_its_line_and_imports_nothing(tmp_path: Path) -> None:
    from hashguard.errors import ListRejected
    from hashguard.lists.csv_format import Csv

    good = VPDQ.parse((REFERENCE / "doorknob-hd-no-bar.txt").read_text())
    bad = json.dumps([f"{HEX[:10]},100,0.0"])
    lines = ["id,signal_type,signal", f'a,vpdq,"{good.replace(chr(34), 2 * chr(34))}"']
    lines.append(f'b,vpdq,"{bad.replace(chr(34), 2 * chr(34))}"')
    errors: list = []
    registry = default_registry()
    rows = list(Csv().read(iter(line.encode() + b"\n" for line in lines), registry, errors))
    assert [r.id for r in rows] == ["a"]
    assert [e.line for e in errors] == [3] and "64 hex digits" in errors[0].message
    store = Store(f"sqlite:///{tmp_path / 'hg.db'}")
    store.create_bank("videos")
    with pytest.raises(ListRejected, match="line 3"):
        store.import_rows("videos", rows, errors, "list.csv")
    assert list(store.export_rows("videos", include_retracted=True)) == []  # nothing applied
    store.close()


# conformance


@pytest.mark.parametrize(
    "clip", ["chair-19-sd-bar", "doorknob-hd-no-bar", "test-padded-dimensions"]
)
def test_frame_hashes_conform_to_the_reference(clip: str) -> None:
    reference = parse_frames((REFERENCE / f"{clip}.txt").read_text())
    ours = frame_hashes(Video(VIDEOS / f"{clip}.mp4"), 0.0)
    assert len(ours) == len(reference)
    assert [f.time for f in ours] == pytest.approx([f.time for f in reference], abs=0.002)
    good = [
        hamming(a.pdq, b.pdq)
        for a, b in zip(ours, reference, strict=True)
        if a.quality >= 80 and b.quality >= 80
    ]
    assert len(good) >= 20  # doorknob fades through near-blank frames (quality 0-3)
    # ThreatExchange's rule for PDQ: within 10 bits of the reference at quality >= 80.
    assert statistics.median(good) <= 2 and max(good) <= 10, (statistics.median(good), max(good))


# matching through the engine


@pytest.fixture(scope="session")
def listed(video_copies: dict[str, Path]) -> list[tuple[str, str, int | None]]:
    """The original clip hashed as content to list (every frame; trimmed too)."""
    engine = Engine(_memory(), load=False)
    return [
        s for s in engine.hash(video_copies["original"], query=False).listed() if s[0] == "vpdq"
    ]


def _memory() -> Store:
    from hashguard.store.memory import MemoryStore

    return MemoryStore()  # type: ignore[return-value]


STILL_IMAGE = PDQ_DATA / "bridge-mods" / "aaa-orig.jpg"


@pytest.fixture
def engine(store: Store, listed: list[tuple[str, str, int | None]]) -> Iterator[Engine]:
    store.create_bank("videos")
    store.create_bank("images")
    rows, errors = entry_rows("chair", listed, {"category": "test"}, store.registry)
    assert not errors
    store.add_entry("videos", rows)
    image = Engine(store, load=False).hash(STILL_IMAGE.read_bytes(), query=False)
    pdq = [s for s in image.listed() if s[0] == "pdq"]
    rows, errors = entry_rows("photo", pdq, {}, store.registry)
    store.add_entry("images", rows)
    yield Engine(store)


def _vpdq(engine: Engine, path: Path) -> list[dict]:
    return [m.as_dict() for m in engine.match_file(path).matches if m.signal_type == "vpdq"]


def test_the_listed_clip_holds_its_frames_and_its_trimmed_frames(listed: list) -> None:
    assert len(listed) == 2  # the clip has pillarbox bars: its picture inside them is kept too
    frames = [parse_frames(value) for _, value, _ in listed]
    assert all(400 < len(f) <= 564 for f in frames)  # every frame, near-duplicates dropped


@pytest.mark.parametrize(
    "copy", ["original", "smaller", "grey", "sepia", "small-logo", "trimmed", "letterboxed"]
)
def test_every_copy_of_the_listed_clip_matches(
    engine: Engine, video_copies: dict[str, Path], copy: str
) -> None:
    found = _vpdq(engine, video_copies[copy])
    assert [m["entry"] for m in found] == ["chair"], found
    match = found[0]
    assert match["query_match_percent"] >= 80 and match["compared_match_percent"] > 0
    start, end = match["query_ranges"][0][0], match["query_ranges"][-1][1]
    assert start <= 1.0 and end >= (8.0 if copy == "trimmed" else 15.0)
    if copy == "letterboxed":
        assert match.get("variant") == "trimmed"  # matched once its added bars were cut


@pytest.mark.parametrize("other", ["doorknob", "padded"])
def test_unrelated_clips_never_match(
    engine: Engine, video_copies: dict[str, Path], other: str
) -> None:
    assert engine.match_file(video_copies[other]).matches == []


def test_a_still_from_the_listed_clip_matches_it(engine: Engine, video_copies: dict) -> None:
    still = io.BytesIO()
    Image.fromarray(frame_at(video_copies["original"], 7.0)).save(still, "JPEG", quality=90)
    matches = engine.match_content(still.getvalue()).matches
    found = [m.as_dict() for m in matches if m.signal_type == "vpdq"]
    assert [m["entry"] for m in found] == ["chair"]
    assert found[0]["query_match_percent"] == 100.0
    assert found[0]["listed_ranges"][0][0] == pytest.approx(7.0, abs=0.5)


def test_a_video_showing_a_listed_image_matches_that_image(
    engine: Engine, tmp_path: Path, video_copies: dict
) -> None:
    photo = np.asarray(Image.open(STILL_IMAGE).convert("RGB"))
    other = frame_at(video_copies["doorknob"], 1.0)
    other = np.asarray(Image.fromarray(other).resize((photo.shape[1], photo.shape[0])))
    clip = clip_of([(other, 2.0), (photo, 2.0), (other, 1.0)], tmp_path / "with-photo.mp4")
    matches = [m.as_dict() for m in engine.match_file(clip).matches]
    assert [(m["entry"], m["signal_type"]) for m in matches] == [("photo", "pdq")]
    assert 2.0 <= matches[0]["frame_time"] < 4.0 and matches[0]["distance"] <= 31


def test_bank_thresholds_decide_the_shares(
    engine: Engine, store: Store, video_copies: dict
) -> None:
    store.update_bank("videos", thresholds={"vpdq_compared_percent": 60})
    engine.refresh()
    assert _vpdq(engine, video_copies["trimmed"]) == []  # 11 s of 19 cannot cover 60%
    store.update_bank("videos", thresholds={"vpdq_compared_percent": None})
    engine.refresh()
    assert _vpdq(engine, video_copies["trimmed"])
    with pytest.raises(
        InvalidValue, match="vpdq_query_percent must be a whole number from 0 to 100"
    ):
        store.update_bank("videos", thresholds={"vpdq_query_percent": 101})


def test_a_retracted_clip_stops_matching_and_a_restart_keeps_the_index(
    store: Store, listed: list, video_copies: dict, tmp_path: Path
) -> None:
    store.create_bank("videos")
    rows, _ = entry_rows("chair", listed, {}, store.registry)
    store.add_entry("videos", rows)
    first = Engine(store, index_dir=tmp_path / "idx")
    assert _vpdq(first, video_copies["grey"])
    again = Engine(store, index_dir=tmp_path / "idx")  # from the snapshot
    assert again.indexes.loaded_from == "snapshot"
    assert _vpdq(again, video_copies["grey"])
    store.retract_entry("videos", "chair")
    again.refresh()
    assert _vpdq(again, video_copies["grey"]) == []


def test_a_reference_frames_file_imports_as_one_entry_and_a_bad_line_is_named(
    tmp_path: Path,
) -> None:
    from tests.helpers import run_cli

    reference = tmp_path / "doorknob.txt"
    reference.write_text((REFERENCE / "doorknob-hd-no-bar.txt").read_text())
    code, _, err = run_cli(tmp_path, "bank", "create", "videos")
    assert code == 0, err
    code, [report], err = run_cli(
        tmp_path, "import", str(reference), "--bank", "videos", "--format", "vpdq-frames"
    )
    assert code == 0 and report["entries_added"] == 1, err
    # The clip itself matches the entry made from its reference hashes.
    code, [line], err = run_cli(tmp_path, "match", str(VIDEOS / "doorknob-hd-no-bar.mp4"))
    found = [m for m in line["matches"] if m["signal_type"] == "vpdq"]
    assert found and found[0]["entry"].startswith("vpdq-sha256:"), err
    broken = tmp_path / "broken.txt"
    lines = reference.read_text().splitlines()
    lines[6] = lines[6].replace(",100,", ",250,")
    broken.write_text("\n".join(lines) + "\n")
    code, _, err = run_cli(
        tmp_path, "import", str(broken), "--bank", "videos", "--format", "vpdq-frames"
    )
    assert code == 4 and "line 7: quality must be from 0 to 100, not 250" in err
