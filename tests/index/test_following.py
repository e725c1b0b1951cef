"""Following the change log cheaply under a stream of changes: each round reads the log
once, and rounds are spaced so that one takes all the changes made meanwhile.

Found by profiling single adds (issue 10, item 29): with NOTIFY every add woke a round in
every worker at once, and each round read the log several times; the rounds, not the adds,
took most of both cores.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from typing import Any

import pytest

from hashguard.engine import Engine
from hashguard.lists.rows import ListRow
from hashguard.runtime import loops
from hashguard.signals.base import Signal
from hashguard.store.memory import MemoryStore


def md5(i: int) -> str:
    return f"{i:032x}"


def add(store: MemoryStore, i: int) -> None:
    store.import_rows("iwf", [ListRow(1, "add", f"e{i}", "md5", md5(i))], [], "test")


def followed(changes: int) -> tuple[MemoryStore, Engine]:
    """A store with ``changes`` adds logged after an engine loaded it."""
    store = MemoryStore()
    store.create_bank("iwf")
    engine = Engine(store)
    for i in range(changes):
        add(store, i)
    return store, engine


def counted(store: MemoryStore, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often the follower reads the change log, by method (the real ones run)."""
    calls: Counter[str] = Counter()
    for name in ("changes_after", "count_changes_after", "last_seq"):
        real = getattr(store, name)

        def spy(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(store, name, spy)
    return calls


def test_a_round_with_a_few_changes_reads_the_log_once(monkeypatch: pytest.MonkeyPatch) -> None:
    store, engine = followed(3)
    calls = counted(store, monkeypatch)
    assert engine.refresh() == 3
    assert calls == {"changes_after": 1}
    assert engine.refresh() == 0 and calls == {"changes_after": 2}
    assert [m.entry for m in engine.match_signals([Signal("md5", md5(2))])] == ["e2"]


def test_a_long_backlog_is_read_in_batches_and_counted_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hashguard.index import live

    monkeypatch.setattr(live, "CATCH_UP_BATCH", 4)
    store, engine = followed(10)
    calls = counted(store, monkeypatch)
    assert engine.refresh() == 10
    # batches of 4, 4 and 2: the last, short, is the log's end; the first, full, is counted
    assert calls == {"changes_after": 3, "count_changes_after": 1}
    assert engine.seq == store.last_seq()


def test_rounds_are_spaced_under_a_stream_of_changes() -> None:
    store, engine = followed(0)  # a memory store announces every write, as NOTIFY does
    rounds: list[float] = []

    def step() -> None:
        rounds.append(time.monotonic())
        engine.refresh()

    async def run() -> float:
        follower = asyncio.create_task(loops.follow(engine, step))
        await asyncio.sleep(0.2)  # its first round, then quiet
        started = time.monotonic()
        for i in range(200):
            add(store, i)  # announced: each would wake a round
            await asyncio.sleep(0.002)
        took = time.monotonic() - started
        await asyncio.sleep(3 * loops.ROUND_GAP)
        follower.cancel()
        return took

    took = asyncio.run(run())
    during = rounds[1:]
    assert engine.seq == store.last_seq()  # every change applied in the end
    # 200 announcements; at most one round per ROUND_GAP took them (plus the last)
    assert len(during) <= took / loops.ROUND_GAP + 2
    assert len(during) < 100
    gaps = [b - a for a, b in itertools.pairwise(during)]
    assert min(gaps) >= loops.ROUND_GAP * 0.9
