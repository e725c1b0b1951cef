"""The PDQ index never misses a hash within the threshold: checked against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashguard.index.hamming import (
    HammingIndex,
    Tables,
    as_words,
    choose_chunks,
    chunk_layout,
    flip_masks,
)
from hashguard.index.rows import Rows

N = 30_000  # above the scan cut-off, so the chunk tables are used


def brute_force(codes: np.ndarray, query: np.ndarray, threshold: int) -> dict[int, int]:
    d = np.unpackbits(codes ^ query, axis=1).sum(axis=1)
    return {int(i): int(d[i]) for i in np.nonzero(d <= threshold)[0]}


def near(code: np.ndarray, flips: list[int]) -> np.ndarray:
    bits = np.unpackbits(code)
    bits[flips] ^= 1
    return np.packbits(bits)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, HammingIndex]:
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 256, (N, 32), dtype=np.uint8)
    # clusters of near-duplicates, as real lists have
    for i in range(0, 300, 3):
        codes[i + 1] = near(codes[i], list(rng.choice(256, 12, replace=False)))
        codes[i + 2] = near(codes[i], list(rng.choice(256, 30, replace=False)))
    index = HammingIndex.build(codes, np.arange(N) + 1000, np.full(N, 1, np.int32))
    assert index.tables is not None
    return codes, index


@settings(max_examples=150, deadline=None)
@given(
    target=st.integers(0, 299),
    flips=st.lists(st.integers(0, 255), max_size=45, unique=True),
    threshold=st.sampled_from([0, 8, 16, 31, 32, 45]),
)
def test_search_equals_brute_force(
    data: tuple[np.ndarray, HammingIndex], target: int, flips: list[int], threshold: int
) -> None:
    codes, index = data
    query = near(codes[target], flips)
    qn, pks, banks, dist = index.within(query[None], threshold)
    got = {int(pk) - 1000: int(d) for pk, d in zip(pks, dist, strict=True)}
    assert got == brute_force(codes, query, threshold)
    assert set(qn.tolist()) <= {0} and set(banks.tolist()) <= {1}


def test_batch_search_equals_single_searches(data: tuple[np.ndarray, HammingIndex]) -> None:
    codes, index = data
    rng = np.random.default_rng(1)
    queries = np.stack(
        [near(codes[i], list(rng.choice(256, 20, replace=False))) for i in range(40)]
    )
    qn, pks, _, dist = index.within(queries, 31)
    batch = sorted(zip(qn.tolist(), pks.tolist(), dist.tolist(), strict=True))
    single = []
    for i, q in enumerate(queries):
        _, p, _, d = index.within(q[None], 31)
        single += [(i, a, b) for a, b in zip(p.tolist(), d.tolist(), strict=True)]
    assert batch == sorted(single)


def test_add_remove_and_compact() -> None:
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 256, (N, 32), dtype=np.uint8)
    index = HammingIndex.build(codes, np.arange(N), np.zeros(N, np.int32))
    new = near(codes[5], [1, 2, 3])
    assert index.add(new, 99_999, 2)
    assert not index.add(new, 99_999, 2)  # already live: no duplicate
    assert index.tail_size == 1
    _, pks, banks, dist = index.within(new[None], 5)
    assert sorted(zip(pks.tolist(), banks.tolist(), dist.tolist(), strict=True)) == [
        (5, 0, 3),
        (99_999, 2, 0),
    ]
    assert index.remove(codes[5], 5) == 1
    assert index.remove(codes[5], 5) == 0
    assert index.remove(new, 12345) == 0  # another entry's hash: untouched
    _, pks, _, _ = index.within(new[None], 5)
    assert pks.tolist() == [99_999]
    compacted = index.compact()
    assert len(compacted) == N and compacted.tail_size == 0
    _, pks, _, _ = compacted.within(new[None], 5)
    assert pks.tolist() == [99_999]
    assert index.add(codes[5], 5, 0)  # re-adding a retracted row works
    assert 5 in index.within(codes[5][None], 0)[1].tolist()


def test_small_sets_are_scanned_and_empty_sets_answer() -> None:
    empty = HammingIndex()
    assert all(len(a) == 0 for a in empty.within(np.zeros((1, 32), np.uint8), 31))
    codes = np.zeros((3, 32), np.uint8)
    codes[1, 0] = 0b111
    small = HammingIndex.build(codes, np.array([1, 2, 3]), np.zeros(3, np.int32))
    assert small.tables is None
    assert sorted(small.within(np.zeros((1, 32), np.uint8), 2)[1].tolist()) == [1, 3]


def test_layout_and_chunk_choice() -> None:
    for m in (8, 11, 12, 16, 64):
        layout = chunk_layout(m)
        assert sum(w for _, w in layout) == 256 and layout[-1][0] + layout[-1][1] == 256
    assert len(flip_masks(23, 2)) == 1 + 23 + 253
    assert choose_chunks(10_000_000, 31) == 11  # measured best at 10M, see docs/benchmarks.md
    # tables never hold more than ~4 slots per hash
    for n in (20_000, 1_000_000, 10_000_000):
        widest = max(w for _, w in chunk_layout(choose_chunks(n, 31)))
        assert 2**widest <= 4 * 2 ** np.ceil(np.log2(n))
    tables = Tables.build(as_words(np.zeros((5, 32), np.uint8)), 16)
    assert len(tables.order) == 16 * 5 and len(tables.offsets) == 16 * (2**16 + 1)


def test_rows_lookup_spans_base_and_tail() -> None:
    rows = Rows(np.array([10, 11]), np.array([1, 1], np.int32))
    rows.append(np.array([12]), np.array([2], np.int32))
    pks, banks, alive = rows.lookup(np.array([2, 0]))
    assert pks.tolist() == [12, 10] and banks.tolist() == [2, 1] and alive.all()
    rows.kill(np.array([2]))
    assert rows.live_count() == 2


@pytest.mark.parametrize("size", [N, 40])  # with chunk tables, and scanned
def test_add_all_equals_adds_one_by_one(size: int) -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 256, (size, 32), dtype=np.uint8)

    def built() -> HammingIndex:
        index = HammingIndex.build(codes, np.arange(size), np.zeros(size, np.int32))
        index.remove(codes[7], 7)  # a dead row: adding it back for entry 7 is new again
        index.add(codes[9], 500, 1)  # a live tail row
        return index

    fresh = rng.integers(0, 256, (3, 32), dtype=np.uint8)
    batch = [
        (fresh[0], 1000, 1),
        (fresh[0], 1000, 1),  # repeated within the batch: not added twice
        (fresh[0], 1001, 1),  # the same hash for another entry
        (codes[3], 3, 0),  # live in the base already
        (codes[3], 2000, 1),  # that hash, another entry
        (codes[7], 7, 0),  # dead in the base
        (codes[9], 500, 1),  # live in the tail already
        (near(codes[11], [0, 1]), 11, 0),  # near a base row, not equal
        (fresh[1], 1002, 2),
        (fresh[1].tobytes(), 1002, 2),  # as bytes, as the follower passes keys
        (fresh[2].tobytes(), 1003, 2),
    ]
    one_by_one, together = built(), built()
    expected = [one_by_one.add(*row) for row in batch]
    assert together.add_all(batch) == sum(expected) == 7
    assert together.tail_size == one_by_one.tail_size
    keys = [np.frombuffer(k, np.uint8) if isinstance(k, bytes) else k for k, _, _ in batch]
    for threshold in (0, 8):
        got, want = (index.within(np.stack(keys), threshold) for index in (together, one_by_one))
        assert sorted(zip(*(a.tolist() for a in got), strict=True)) == sorted(
            zip(*(a.tolist() for a in want), strict=True)
        )
    # Retracting afterwards finds every row the batch added.
    assert together.remove(fresh[0], 1000) == 1 and together.remove(fresh[0], 1001) == 1
    assert together.within(fresh[0][None], 0)[1].tolist() == []
