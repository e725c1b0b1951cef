"""The index kit: a signal type's index answers as a scan of its live rows would, before and
after rows are added and removed, once compacted, and once saved and loaded as a snapshot.

The scan ("brute force") compares each query with each live row by the type's own
``distance`` (exact and Hamming types). For types searched in text, where the index finds
terms in a message, it is the union of what one-row indexes of the same type find: the
combined index must find exactly what its rules find one by one.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np

from hashguard.index import snapshot
from hashguard.index.base import Hit, SignalIndex
from hashguard.signals.base import SignalType
from hashguard.signals.registry import Registry
from hashguard.testing.checks import require

Row = tuple[str, int, int]  # (canonical value, entry pk, bank id)


def check_index(
    signal_type: SignalType, directory: Path, *, seed: int = 2, rows: int = 300
) -> None:
    """Run ``signal_type``'s index through the kit; ``directory`` holds its snapshot."""
    st = signal_type
    rng = random.Random(seed)
    listed = _rows(st, rng, rows)
    index = _filled(st, listed)
    require(len(index) == len(listed), (len(index), len(listed)))
    queries = _queries(st, rng, [v for v, _, _ in listed])
    _agrees(st, index, listed, queries, "built")

    # change it as the change log does: new rows, a repeated one, removals
    live = list(listed)
    for value in st.examples(random.Random(seed + 1), 20):
        pk = rng.randrange(10**6, 2 * 10**6)
        require(index.add(st.index_key(value), pk, 7), "a new row was not added")
        live.append((value, pk, 7))
    value, pk, bank = live[0]
    require(not index.add(st.index_key(value), pk, bank), "a live (key, entry) was added twice")
    for value, pk, _ in rng.sample(live, 25):
        removed = index.remove(st.index_key(value), pk)
        require(removed >= 1, f"removing a live row of entry {pk} removed {removed}")
        live = [r for r in live if not (r[0] == value and r[1] == pk)]
    require(index.remove(st.index_key(st.examples(random.Random(seed + 9), 1)[0]), 1) == 0)
    require(len(index) == len(live))
    index.prepare()
    queries += _queries(st, rng, [v for v, _, _ in live[-20:]])
    _agrees(st, index, live, queries, "after adds and removals")

    compacted = index.compact()
    require(compacted.tail_size == 0 and len(compacted) == len(live))
    _agrees(st, compacted, live, queries, "compacted")

    registry = Registry([st])
    snapshot.save(directory, "kit", 1, {st.name: compacted})
    loaded = snapshot.load(directory, registry)
    if loaded is None:
        raise AssertionError("the snapshot just written was not loaded")
    manifest, indexes = loaded
    require(manifest.seq == 1 and set(indexes) == {st.name})
    _agrees(st, indexes[st.name], live, queries, "loaded from its snapshot")


def _rows(st: SignalType, rng: random.Random, count: int) -> list[Row]:
    """Rows as lists give them: mostly one value per entry, some values in two banks, some
    entries with two values, and for a distance type clusters of near values."""
    values = st.examples(rng, count)
    if st.matching == "hamming":
        values += [st.near(v, rng, rng.randint(1, st.max_threshold)) for v in values[:40]]
    out: list[Row] = []
    for i, value in enumerate(values):
        out.append((value, i + 1, 1 + i % 3))
        if i % 10 == 0:
            out.append((value, 50_000 + i, 4))  # the same value in another bank
        if i % 15 == 0 and i + 1 < len(values):
            out.append((values[i + 1], i + 1, 1 + i % 3))  # a second value of entry i
    return out


def _filled(st: SignalType, rows: list[Row]) -> SignalIndex:
    return st.new_index().filled(
        [st.index_key(v) for v, _, _ in rows],
        np.array([pk for _, pk, _ in rows], np.int64),
        np.array([bank for _, _, bank in rows], np.int32),
    )


def _queries(st: SignalType, rng: random.Random, values: list[str]) -> list[str]:
    """Listed values, values near them, and unlisted ones; for a type searched in text,
    messages holding listed terms among filler words."""
    picked = rng.sample(values, min(30, len(values)))
    fresh = st.examples(random.Random(rng.random()), 10)
    if st.matching == "keyword":
        terms = [v.partition(":")[2] for v in picked + fresh]
        return [" ".join(["hello", *rng.sample(terms, 3), "and", "goodbye"]) for _ in range(20)] + [
            "nothing listed here at all"
        ]
    if st.matching == "hamming":
        near = [st.near(v, rng, rng.randint(1, st.max_threshold + 8)) for v in picked]
        return picked + near + fresh
    return picked + fresh


def _agrees(
    st: SignalType, index: SignalIndex, live: list[Row], queries: list[str], when: str
) -> None:
    thresholds = sorted({0, st.default_threshold, st.max_threshold})
    for threshold in thresholds:
        keys = queries if st.matching == "keyword" else [st.index_key(q) for q in queries]
        got = sorted(_found(h) for h in index.search(keys, threshold))
        expected = sorted(_scan(st, live, queries, threshold))
        require(expected, f"{st.name}: the kit's queries find nothing, so they show nothing")
        require(
            got == expected,
            (
                f"{st.name} index {when}, threshold {threshold}: "
                f"{len(got)} hits, a scan finds {len(expected)}; "
                f"missing {sorted(set(expected) - set(got))[:3]}, "
                f"extra {sorted(set(got) - set(expected))[:3]}"
            ),
        )


def _found(hit: Hit) -> tuple[Any, ...]:
    span = tuple(hit.where["span"]) if hit.where and "span" in hit.where else ()
    return (hit.query, hit.entry_pk, hit.bank_id, hit.distance, span)


def _scan(
    st: SignalType, live: list[Row], queries: list[str], threshold: int
) -> set[tuple[Any, ...]]:
    out: set[tuple[Any, ...]] = set()
    if st.matching == "keyword":
        for value, pk, bank in live:
            alone = _filled(st, [(value, pk, bank)])
            out.update(_found(h) for h in alone.search(queries, threshold))
        return out
    for q, query in enumerate(queries):
        for value, pk, bank in live:
            distance = st.within(query, value, threshold)
            if distance is not None:
                out.add((q, pk, bank, distance, ()))
    return out
