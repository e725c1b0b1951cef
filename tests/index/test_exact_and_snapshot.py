from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashguard.errors import SnapshotDamaged
from hashguard.index import snapshot
from hashguard.index.exact import ExactIndex
from hashguard.index.hamming import HammingIndex


def test_exact_index() -> None:
    keys = [bytes([i]) * 16 for i in range(100)] + [bytes(16)]  # a key of zero bytes too
    index = ExactIndex.build(16, keys, np.arange(101), np.zeros(101, np.int32))
    qn, pks, _ = index.equal([bytes([5]) * 16, b"\xee" * 16, bytes(16)])
    assert list(zip(qn, pks, strict=True)) == [(0, 5), (2, 0), (2, 100)]
    assert index.add(b"\xee" * 16, 500, 3) and not index.add(b"\xee" * 16, 500, 3)
    assert index.add(bytes([5]) * 16, 501, 3)  # a second entry with the same hash
    assert sorted(index.equal([bytes([5]) * 16])[1]) == [5, 501]
    assert index.remove(bytes([5]) * 16, 5) == 1
    assert index.equal([bytes([5]) * 16])[1] == [501]
    compacted = index.compact()
    assert len(compacted) == 102 and compacted.tail_size == 0
    assert compacted.equal([b"\xee" * 16])[1] == [500]


def test_snapshot_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 256, (25_000, 32), dtype=np.uint8)
    indexes = {
        "pdq": HammingIndex.build(codes, np.arange(25_000), np.ones(25_000, np.int32)),
        "md5": ExactIndex.build(16, [bytes([1]) * 16], np.array([7]), np.array([2], np.int32)),
    }
    target = tmp_path / "snap"
    snapshot.save(target, "store-x", 42, indexes)
    snapshot.save(target, "store-x", 43, indexes)  # replacing an existing one
    found = snapshot.load(target)
    assert found is not None
    manifest, loaded = found
    assert (manifest.store_id, manifest.seq) == ("store-x", 43)
    pdq = loaded["pdq"]
    assert isinstance(pdq, HammingIndex) and pdq.tables is not None
    assert pdq.within(codes[17][None], 0)[1].tolist() == [17]
    assert pdq.remove(codes[17], 17) == 1  # live flags are writable after a load
    assert loaded["md5"].equal([bytes([1]) * 16])[1] == [7]
    assert snapshot.read_manifest(tmp_path / "missing") is None
    assert snapshot.load(tmp_path / "missing") is None
    (target / "manifest.json").write_text("{broken")
    with pytest.raises(SnapshotDamaged, match=r"manifest\.json"):
        snapshot.load(target)


def test_key_filter_never_hides_a_key_and_rejects_most_others() -> None:
    rng = np.random.default_rng(1)
    listed = rng.integers(0, 256, (20_000, 32), dtype=np.uint8)
    keys = [row.tobytes() for row in listed]
    index = ExactIndex.build(32, keys, np.arange(20_000), np.zeros(20_000, np.int32))
    assert index.filter is not None and all(k in index.filter for k in keys)
    others = [row.tobytes() for row in rng.integers(0, 256, (20_000, 32), dtype=np.uint8)]
    passed = sum(k in index.filter for k in others)
    assert passed < 200  # ~0.5% expected: a filter that lets everything through fails here
    # searching through the filter finds exactly what a plain scan finds
    queries = keys[::997] + others[:50] + keys[5:6]
    qn, pks, _ = index.equal(queries)
    expected = [(i, keys.index(q)) for i, q in enumerate(queries) if q in set(keys)]
    assert sorted(zip(qn, pks, strict=True)) == expected


def test_keys_added_after_the_build_are_found_past_the_filter(tmp_path: Path) -> None:
    index = ExactIndex.build(32, [b"\x01" * 32], np.array([1]), np.array([1], np.int32))
    assert index.add(b"\x02" * 32, 2, 1)
    assert b"\x02" * 32 not in index.filter  # type: ignore[operator]
    assert index.equal([b"\x02" * 32])[1] == [2]
    snapshot.save(tmp_path / "snap", "s", 1, {"url": index.compact()})
    assert (tmp_path / "snap" / "url.filter.npy").exists()
    found = snapshot.load(tmp_path / "snap")
    assert found is not None
    loaded = found[1]["url"]
    assert loaded.equal([b"\x01" * 32, b"\x02" * 32])[1] == [1, 2]
    # a filter of the wrong size (no power of two) would hide listed keys: not loaded
    np.save(tmp_path / "snap" / "url.filter.npy", np.zeros(3000, np.uint8))
    with pytest.raises(SnapshotDamaged, match=r"url\.filter\.npy"):
        snapshot.load(tmp_path / "snap")
    # keys too short to filter on are searched without one
    short = ExactIndex.build(4, [b"abcd"], np.array([9]), np.array([1], np.int32))
    assert short.filter is None and short.equal([b"abcd", b"zzzz"])[1] == [9]
    assert ExactIndex(32).equal([b"\x01" * 32])[1] == []


@settings(max_examples=200, deadline=None)
@given(
    base=st.lists(st.tuples(st.integers(0, 30), st.integers(1, 3)), max_size=60),
    added=st.lists(st.tuples(st.integers(0, 40), st.integers(1, 3)), max_size=10),
    removed=st.lists(st.integers(0, 70), max_size=10),
    queries=st.lists(st.integers(0, 45), max_size=12),
)
def test_search_equals_a_scan_of_the_live_rows(
    base: list[tuple[int, int]],
    added: list[tuple[int, int]],
    removed: list[int],
    queries: list[int],
) -> None:
    """Few keys (one by one) or many (vectorised), base or tail rows, live or retracted."""

    def key(n: int) -> bytes:  # ending in zero bytes, as digests may
        return bytes([n]) + bytes(31)

    rows = [(key(k), pk, bank) for pk, (k, bank) in enumerate(base)]
    index = ExactIndex.build(
        32, [r[0] for r in rows], np.arange(len(rows)), np.array([r[2] for r in rows], np.int32)
    )
    for offset, (k, bank) in enumerate(added):
        pk = 1000 + offset
        if index.add(key(k), pk, bank):
            rows.append((key(k), pk, bank))
    for n in removed:
        if rows:
            gone = rows.pop(n % len(rows))
            assert index.remove(gone[0], gone[1]) == 1
    qn, pks, banks = index.equal([key(q) for q in queries])
    got = sorted(zip(qn, pks, banks, strict=True))
    expected = sorted(
        (i, pk, bank) for i, q in enumerate(queries) for k, pk, bank in rows if k == key(q)
    )
    assert got == expected
