"""Matched entries kept in memory: reused while unchanged, forgotten when the log says they
changed, never kept when read across a change."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hashguard.banks.model import Entry
from hashguard.engine import Engine
from hashguard.index.entries import EntryCache
from hashguard.signals.base import Signal
from hashguard.store.store import Store
from tests.helpers import import_text

MD5 = "0cc175b9c0f1b6a831c399e269772661"
QUERY = [Signal("md5", MD5)]


def _matched(engine: Engine) -> list[tuple[str, str, str | None]]:
    return [(m.bank, m.entry, m.metadata.get("category")) for m in engine.match_signals(QUERY)]


def test_hits_reuse_entries_until_the_log_says_they_changed(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    store.create_bank("iwf")
    import_text(store, "iwf", f"signal_type,signal,id,category\nmd5,{MD5},e1,A\n")
    engine = Engine(store, index_dir=tmp_path / "idx")
    cache = engine.indexes.entries
    assert _matched(engine) == [("iwf", "e1", "A")]
    assert (cache.hits, cache.misses) == (0, 1)
    assert _matched(engine) == [("iwf", "e1", "A")]
    assert (cache.hits, cache.misses) == (1, 1)  # no store read the second time

    # Another process (its own Store) changes the entry: this one answers as before until
    # its follower applies the change, then with the new metadata.
    other = Store(db_url, create=False)
    try:
        import_text(other, "iwf", f"signal_type,signal,id,category\nmd5,{MD5},e1,B\n")
        assert _matched(engine) == [("iwf", "e1", "A")]
        engine.refresh()
        assert _matched(engine) == [("iwf", "e1", "B")]
        other.retract_entry("iwf", "e1")
        engine.refresh()
        assert _matched(engine) == []
        import_text(other, "iwf", f"signal_type,signal,id,category\nmd5,{MD5},e1,C\n")
        engine.refresh()
        assert _matched(engine) == [("iwf", "e1", "C")]
        # a deleted bank's entries are retracted and the bank renamed: all forgotten
        other.delete_bank("iwf")
        engine.refresh()
        assert _matched(engine) == [] and len(cache) == 0
    finally:
        other.close()


def test_what_this_process_writes_is_current_at_once(store: Store, tmp_path: Path) -> None:
    store.create_bank("iwf")
    import_text(store, "iwf", f"signal_type,signal,id,category\nmd5,{MD5},e1,A\n")
    engine = Engine(store, index_dir=tmp_path / "idx")
    assert _matched(engine) == [("iwf", "e1", "A")]
    store.retract_entry("iwf", "e1")
    # the index still holds the entry (no refresh), but the entry is read again: retracted
    assert engine.indexes.search("md5", [MD5]) and _matched(engine) == []


def _entry(pk: int, signals: bool = False) -> Entry:
    return Entry(pk, "iwf", f"e{pk}", (Signal("md5", MD5),) if signals else ())


def test_an_entry_read_while_it_changed_is_returned_but_not_kept() -> None:
    cache = EntryCache()

    def load_racing_a_change(pks: Sequence[int], *, signals: bool) -> dict[int, Entry]:
        cache.forget([1])  # the follower applies a change to entry 1 during the read
        return {pk: _entry(pk) for pk in pks}

    assert cache.get([1], load_racing_a_change)[1].id == "e1"
    assert len(cache) == 0
    loads: list[list[int]] = []

    def load(pks: Sequence[int], *, signals: bool) -> dict[int, Entry]:
        loads.append(sorted(pks))
        return {pk: _entry(pk, signals) for pk in pks if pk != 9}  # the store has no 9

    assert set(cache.get([1, 2, 9], load)) == {1, 2}
    assert set(cache.get([1, 2], load)) == {1, 2}
    assert loads == [[1, 2, 9]]
    # kept without their signals: read again when the signals are wanted, then kept with them
    assert cache.get([1], load, signals=True)[1].signals
    assert cache.get([1], load)[1].signals
    assert loads == [[1, 2, 9], [1]]


def test_the_least_recently_matched_entries_go_first() -> None:
    cache = EntryCache(capacity=2)

    def load(pks: Sequence[int], *, signals: bool) -> dict[int, Entry]:
        return {pk: _entry(pk) for pk in pks}

    cache.get([1], load)
    cache.get([2], load)
    cache.get([1], load)  # 1 is now the most recent
    cache.get([3], load)
    misses = cache.misses
    cache.get([1, 3], load)
    assert cache.misses == misses and len(cache) == 2
    cache.get([2], load)
    assert cache.misses == misses + 1
