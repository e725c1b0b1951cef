"""Thresholds per bank *and* per signal type: each distance-matched type has its own, a bank
sets some and leaves the rest at the type's default, and bad settings are refused whole."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from hashguard.engine import Engine
from hashguard.errors import InvalidValue, UnknownSignalType
from hashguard.lists.rows import entry_rows
from hashguard.signals.base import Signal
from hashguard.signals.pdq import Pdq
from hashguard.signals.registry import Registry, default_registry
from hashguard.store.store import Store

RNG = np.random.default_rng(5)


class WidePdq(Pdq):
    """A second Hamming-matched type (the shape vPDQ's frames have) with its own default and
    bound, so two distance types sit in one bank."""

    name = "pdq_wide"
    hashes = None
    default_threshold = 12
    max_threshold = 40


def near(base: np.ndarray, flips: int) -> str:
    bits = base.copy()
    bits[RNG.choice(256, flips, replace=False)] ^= 1
    return np.packbits(bits).tobytes().hex()


@pytest.fixture
def two_types(db_url: str) -> Iterator[tuple[Store, Registry]]:
    registry = default_registry()
    registry.register(WidePdq())
    store = Store(db_url, registry=registry)
    yield store, registry
    store.close()


def test_each_type_matches_at_its_own_threshold(two_types: tuple[Store, Registry]) -> None:
    store, registry = two_types
    base = RNG.integers(0, 2, 256, dtype=np.uint8)
    listed = np.packbits(base).tobytes().hex()
    store.create_bank("iwf", thresholds={"pdq": 10, "pdq_wide": 30})
    rows, errors = entry_rows(
        "e1", [("pdq", listed, None), ("pdq_wide", listed, None)], {}, registry
    )
    assert errors == []
    store.add_entry("iwf", rows)
    engine = Engine(store, registry)
    query = near(base, 20)  # 20 bits away: beyond PDQ's 10, within pdq_wide's 30

    def found(type_name: str) -> list[int | None]:
        return [m.distance for m in engine.match_signals([Signal(type_name, query)])]

    assert found("pdq") == [] and found("pdq_wide") == [20]
    # back to the types' defaults (31 and 12): now the other way round
    store.update_bank("iwf", thresholds={"pdq": None, "pdq_wide": None})
    engine.refresh()
    assert store.bank("iwf").thresholds == {}
    assert found("pdq") == [20] and found("pdq_wide") == []
    # one type changed, the other kept
    store.update_bank("iwf", thresholds={"pdq_wide": 25})
    store.update_bank("iwf", pdq_threshold=19)
    engine.refresh()
    assert store.bank("iwf").thresholds == {"pdq": 19, "pdq_wide": 25}
    assert found("pdq") == [] and found("pdq_wide") == [20]


def test_bad_thresholds_are_refused_and_change_nothing(two_types: tuple[Store, Registry]) -> None:
    store, _ = two_types
    store.create_bank("iwf", thresholds={"pdq_wide": 20})
    bad: list[tuple[dict[str, int | None], type[Exception], str]] = [
        ({"pdq_wide": 41}, InvalidValue, "pdq_wide threshold must be a whole number from 0 to 40"),
        ({"pdq_wide": -1}, InvalidValue, "from 0 to 40"),
        ({"pdq": 64}, InvalidValue, "from 0 to 63"),
        ({"md5": 2}, InvalidValue, "md5 signals match only when equal"),
        ({"nope": 3}, UnknownSignalType, "unknown signal type 'nope'"),
        # a good one beside a bad one: neither is written
        ({"pdq": 20, "url": 1}, InvalidValue, "url signals match only when equal"),
    ]
    for changes, error, message in bad:
        with pytest.raises(error, match=message):
            store.update_bank("iwf", thresholds=changes)
        with pytest.raises(error, match=message):
            store.create_bank("other", thresholds={k: v or 0 for k, v in changes.items()})
    with pytest.raises(InvalidValue, match="two different PDQ thresholds"):
        store.update_bank("iwf", pdq_threshold=20, thresholds={"pdq": 21})
    with pytest.raises(InvalidValue, match="two different PDQ thresholds"):
        store.update_bank("iwf", pdq_threshold=20, thresholds={"PDQ": 21})
    with pytest.raises(InvalidValue, match="two different pdq_wide thresholds"):
        store.update_bank("iwf", thresholds={"pdq_wide": 5, "PDQ_WIDE": 6})
    assert store.bank("iwf").thresholds == {"pdq_wide": 20}
    assert [b.name for b in store.banks()] == ["iwf"]
    # the same threshold twice is one setting, and a type's name is read case-blind
    assert store.update_bank("iwf", pdq_threshold=20, thresholds={"PDQ": 20}).thresholds == {
        "pdq": 20,
        "pdq_wide": 20,
    }
