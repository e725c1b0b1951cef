"""Content in, matches out: the engine over real images and each store (SQLite, PostgreSQL,
in memory)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from hashguard.content import hash_content
from hashguard.engine import Engine
from hashguard.errors import MediaError
from hashguard.signals.base import Signal
from hashguard.store.repositories import Repositories
from hashguard.store.store import Store
from tests.helpers import encode, import_text

BRIDGE = "pdq/bridge-mods/aaa-orig.jpg"


@pytest.fixture
def store(repos: Repositories) -> Repositories:
    """The engine takes any store: these tests run on every one."""
    return repos


@pytest.fixture
def bridge(testdata: Path) -> bytes:
    return (testdata / BRIDGE).read_bytes()


def listed(store: Repositories, data: bytes, bank: str = "iwf", entry: str = "item-1") -> None:
    signals = hash_content(data)
    assert signals.pdq is not None
    import_text(
        store, bank,
        "signal_type,signal,id,category,quality\n"
        f"pdq,{signals.pdq.hex()},{entry},A,{signals.pdq_quality}\n"
        f"md5,{signals.digests['md5']},{entry},A,\n",
    )  # fmt: skip


def test_exact_and_near_duplicates_match(
    store: Repositories, testdata: Path, bridge: bytes, tmp_path: Path
) -> None:
    store.create_bank("iwf")
    listed(store, bridge)
    engine = Engine(store, index_dir=tmp_path / "idx")
    same = engine.match_content(bridge)
    assert {(m.signal_type, m.distance) for m in same.matches} == {("md5", 0), ("pdq", 0)}
    assert same.matches[0].as_dict()["category"] == "A"
    assert same.signals["md5"] == hash_content(bridge).digests["md5"]
    for name in ("blur-a-lot.jpg", "shrink-a-lot.jpg", "sharpen-a-lot.jpg", "high-contrast.jpg"):
        result = engine.match_content((testdata / "pdq" / "bridge-mods" / name).read_bytes())
        assert [(m.entry, m.signal_type) for m in result.matches] == [("item-1", "pdq")], name
    other = engine.match_file(testdata / "pytx" / "rgb.jpeg")
    assert other.matches == []
    batch = engine.match_many([bridge, b"not an image"])
    assert [len(r.matches) for r in batch] == [2, 0]
    with pytest.raises(MediaError, match="no such file"):
        engine.match_file(tmp_path / "missing.jpg")


def test_rotated_and_flipped_copies_match(
    store: Repositories, testdata: Path, bridge: bytes, tmp_path: Path
) -> None:
    store.create_bank("iwf")
    listed(store, (testdata / "pdq/reg-test-input/dih/bridge-1-original.jpg").read_bytes())
    engine = Engine(store, index_dir=tmp_path / "idx")
    variants = set()
    for path in sorted((testdata / "pdq/reg-test-input/dih").iterdir()):
        matches = [
            m for m in engine.match_content(path.read_bytes()).matches if m.signal_type == "pdq"
        ]
        assert [m.entry for m in matches] == ["item-1"], path.name
        variants.add(matches[0].variant)
    assert len(variants) == 8  # each orientation matched through its own variant


def test_padded_copy_matches_through_trimming(
    store: Repositories, testdata: Path, tmp_path: Path
) -> None:
    store.create_bank("iwf")
    listed(store, (testdata / "pytx/sample-b.jpg").read_bytes())
    engine = Engine(store, index_dir=tmp_path / "idx")
    matches = engine.match_content(
        (testdata / "pytx/letterboxed_sample-b.jpg").read_bytes()
    ).matches
    assert matches and (matches[0].variant or "").startswith("trimmed")


def test_live_changes_reach_the_index(store: Repositories, bridge: bytes, tmp_path: Path) -> None:
    store.create_bank("iwf")
    engine = Engine(store, index_dir=tmp_path / "idx")
    assert engine.match_content(bridge).matches == []
    listed(store, bridge)
    assert engine.refresh() == 2
    assert len(engine.match_content(bridge).matches) == 2
    import_text(store, "iwf", "signal_type,signal,id,action\n,,item-1,retract\n")
    engine.refresh()
    assert engine.match_content(bridge).matches == []


def test_bank_settings_apply_without_rebuilding(
    store: Repositories, testdata: Path, bridge: bytes, tmp_path: Path
) -> None:
    store.create_bank("iwf")
    listed(store, bridge)
    engine = Engine(store, index_dir=tmp_path / "idx")
    sharpened = (testdata / "pdq/bridge-mods/sharpen-a-lot.jpg").read_bytes()
    distance = engine.match_content(sharpened).matches[0].distance
    assert distance > 0
    store.update_bank("iwf", pdq_threshold=distance - 1)
    engine.refresh()
    assert engine.match_content(sharpened).matches == []
    store.update_bank("iwf", enabled=False, pdq_threshold=31)
    engine.refresh()
    assert engine.match_content(bridge).matches == []


def test_restart_loads_snapshot_and_catches_up(
    store: Repositories, bridge: bytes, tmp_path: Path
) -> None:
    store.create_bank("iwf")
    listed(store, bridge, entry="old")
    first = Engine(store, index_dir=tmp_path / "idx")
    assert first.indexes.loaded_from == "store"
    other = encode(Image.new("RGB", (300, 200), (10, 200, 30)), "PNG")
    import_text(
        store, "iwf", f"signal_type,signal,id\nmd5,{hash_content(other).digests['md5']},new\n"
    )
    import_text(store, "iwf", "signal_type,signal,id,action\n,,old,retract\n")
    second = Engine(store, index_dir=tmp_path / "idx")
    assert second.indexes.loaded_from == "snapshot"
    assert second.indexes.seq == store.last_seq()
    assert [m.entry for m in second.match_content(other).matches] == ["new"]
    assert second.match_content(bridge).matches == []


def test_snapshot_of_another_store_is_not_used(db_url: str, bridge: bytes, tmp_path: Path) -> None:
    other = Store(f"sqlite:///{tmp_path / 'other.db'}")
    other.create_bank("x")
    listed(other, bridge, bank="x")
    Engine(other, index_dir=tmp_path / "idx")
    mine = Store(db_url)
    engine = Engine(mine, index_dir=tmp_path / "idx")
    assert engine.indexes.loaded_from == "store"
    assert engine.match_content(bridge).matches == []


def test_precomputed_signals_and_low_quality(store: Repositories, tmp_path: Path) -> None:
    store.create_bank("iwf")
    blank = hash_content(encode(Image.new("RGB", (64, 64), (200, 200, 200)), "PNG"))
    assert blank.pdq is not None and blank.low_quality
    import_text(
        store,
        "iwf",
        f"signal_type,signal,id,quality\npdq,{blank.pdq.hex()},blank,{blank.pdq_quality}\n",
    )
    engine = Engine(store, index_dir=tmp_path / "idx")
    matches = engine.match_signals([Signal("pdq", blank.pdq.hex())])
    assert [m.entry for m in matches] == ["blank"]
    assert matches[0].low_quality and matches[0].as_dict()["low_quality"] is True


def test_searches_while_the_log_is_applied(
    store: Repositories, bridge: bytes, tmp_path: Path
) -> None:
    """Request threads search while the follower thread applies changes: no torn reads."""
    import threading

    store.create_bank("iwf")
    listed(store, bridge)
    engine = Engine(store, index_dir=tmp_path / "idx")
    hashed = hash_content(bridge)
    failures: list[BaseException] = []
    done = threading.Event()

    def search() -> None:
        try:
            while not done.is_set():
                assert any(m.entry == "item-1" for m in engine.match_hashed(hashed).matches)
        except BaseException as e:  # surfaced below
            failures.append(e)

    threads = [threading.Thread(target=search) for _ in range(2)]
    for t in threads:
        t.start()
    for i in range(40):
        import_text(store, "iwf", f"signal_type,signal,id\npdq,{i:064x},n{i}\nmd5,{i:032x},n{i}\n")
        engine.refresh()
    done.set()
    for t in threads:
        t.join()
    assert failures == []
    assert len(engine.indexes.indexes["pdq"]) == 41


def test_exact_orientations_bring_turned_copies_back_within_a_few_bits(
    store: Repositories, testdata: Path, tmp_path: Path
) -> None:
    store.create_bank("iwf")
    listed(store, (testdata / "pdq/reg-test-input/dih/bridge-1-original.jpg").read_bytes())
    engine = Engine(store, index_dir=tmp_path / "idx", exact_orientations=True)
    for path in sorted((testdata / "pdq/reg-test-input/dih").iterdir()):
        pdq = [m for m in engine.match_file(path).matches if m.signal_type == "pdq"]
        assert pdq[0].distance <= 4, path.name  # 12-22 bits with the DCT-derived variants
    name_of = {
        m.variant
        for m in engine.match_file(testdata / "pdq/reg-test-input/dih/bridge-5-flipx.jpg").matches
    }
    assert name_of == {"flip_x"}
