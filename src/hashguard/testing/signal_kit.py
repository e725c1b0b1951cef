"""The signal-type kit: what every :class:`~hashguard.signals.base.SignalType` promises."""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Sequence

from hashguard.content import hash_content
from hashguard.errors import InvalidSignal
from hashguard.index.base import SignalIndex
from hashguard.signals.base import Signal, SignalType
from hashguard.signals.registry import Registry
from hashguard.testing.checks import require

# Refused by every type: nothing, blanks, and control characters.
ALWAYS_INVALID = ("", "   ", "\x00", "\n\t")


def check_signal_type(
    signal_type: SignalType,
    *,
    invalid: Sequence[str] = (),
    media: Sequence[bytes] = (),
    seed: int = 1,
    count: int = 50,
) -> None:
    """Check ``signal_type`` against the interface's promises: its settings are coherent,
    its examples parse to themselves, round-trip through bytes and compare as they should,
    ``invalid`` values (besides the blank ones every type refuses) raise
    :class:`~hashguard.errors.InvalidSignal` and nothing else, and, for a type that hashes
    content, each of ``media`` hashes to a valid value the same way twice."""
    st = signal_type
    require(re.fullmatch(r"[a-z][a-z0-9_]{0,31}", st.name), f"bad type name {st.name!r}")
    require(st.matching in ("exact", "hamming", "keyword"), st.matching)
    require(st.hashes in ("bytes", "image", "video", None), st.hashes)
    require(0 <= st.default_threshold <= st.max_threshold, (st.default_threshold, st.max_threshold))
    if st.matching == "hamming":
        require(st.max_threshold > 0, "a type matched by distance needs a max_threshold")
    else:
        require(st.max_threshold == 0, "a type matched by equality takes no threshold")

    values = st.examples(random.Random(seed), count)
    require(len(set(values)) == len(values) == count, "examples must be distinct")
    for value in values:
        require(st.parse(value) == value, f"{value!r} is not canonical: {st.parse(value)!r}")
        require(st.from_bytes(st.to_bytes(value)) == value, f"{value!r} does not round-trip")
        require(st.index_key(value) == st.index_key(value))
        require(st.distance(value, value) == 0, f"{value!r} is not at distance 0 from itself")
    if st.matching != "keyword":
        keys = {_hashable(st.index_key(v)) for v in values}
        require(len(keys) == len(values), "distinct values share an index key")
    for a, b in itertools.pairwise(values):
        require(st.distance(a, b) == st.distance(b, a), "distance is not symmetric")
        if st.matching == "exact":
            require(st.distance(a, b) is None, "unequal values of an exact type compare")
    for bad in (*ALWAYS_INVALID, *invalid):
        try:
            st.parse(bad)
        except InvalidSignal:
            continue
        raise AssertionError(f"{st.name} accepted {bad!r}")

    index = st.new_index()
    require(isinstance(index, SignalIndex) and len(index) == 0)
    require(st.low_quality(None) is False)
    described = st.describe(0)
    require(described is None or isinstance(described, dict))

    registry = Registry([st])
    require(registry.parse(st.name.upper(), values[0]) == Signal(st.name, values[0]))

    if st.hashes is None:
        require(not media, f"{st.name} hashes no content")
        return
    require(media, f"{st.name} hashes content: give the kit some")
    for data in media:
        hashed = hash_content(data, registry=registry).hashed.get(st.name)
        if hashed is None:
            raise AssertionError(f"{st.name} gave no signal for {len(data)} bytes")
        require(hashed.type == st.name and st.parse(hashed.value) == hashed.value)
        again = hash_content(data, registry=registry).hashed[st.name]
        require(again.value == hashed.value, "hashing is not deterministic")
        listed = hash_content(data, variants=False, registry=registry).hashed[st.name]
        require(st.parse(listed.value) == listed.value)
        if st.hashes != "video":  # a video is sampled more densely when listed
            require(listed.value == hashed.value, "a listed copy hashes unlike a query")


def _hashable(key: object) -> object:
    return key.tobytes() if hasattr(key, "tobytes") else key
