"""The flood guard's counts in the store: a rule's cap holds across processes and threads,
and a take refused by one window counts in none. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

from hashguard.engine import Engine, Match
from hashguard.policy import Rule, Verdict
from hashguard.store.flood_table import SqlFloodGuard
from hashguard.store.store import Store

T0 = 1_800_000_000.0 - (1_800_000_000 % 86400)  # the start of a UTC day


def test_a_cap_holds_across_two_engines_on_one_store(store: Store, tmp_path: Path) -> None:
    store.create_bank("iwf")
    store.policies.set(
        {"rules": [{"name": "capped", "verdict": "block", "cap_per_hour": 3}]}, actor="t"
    )
    workers = [Engine(store, index_dir=tmp_path / f"w{i}") for i in range(2)]
    match = [Match("iwf", "x1", "md5", 0)]
    verdicts = [workers[i % 2].decide(match).verdict for i in range(6)]
    assert verdicts == [Verdict.BLOCK] * 3 + [Verdict.REVIEW] * 3


def test_concurrent_takes_never_pass_the_cap(store: Store) -> None:
    guard = SqlFloodGuard(store.engine, clock=lambda: T0)
    rule = Rule("r", Verdict.BLOCK, cap_per_hour=25)
    taken: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            ok = guard.take(rule)
            with lock:
                taken.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    guard.close()
    assert len(taken) == 60 and sum(taken) == 25


def test_a_take_refused_by_one_window_counts_in_none(store: Store) -> None:
    now = [T0 + 10]
    guard = SqlFloodGuard(store.engine, clock=lambda: now[0])
    rule = Rule("r", Verdict.BLOCK, cap_per_hour=2, cap_per_day=3)
    first_hour = [guard.take(rule) for _ in range(3)]
    now[0] += 3600
    second_hour = [guard.take(rule) for _ in range(2)]
    assert (first_hour, second_hour) == ([True, True, False], [True, False])
    now[0] += 86400  # a new day, a new hour
    assert guard.take(rule)
    assert guard.purge(now[0] + 86400) >= 3  # the windows of a day ago and more
    guard.close()
