"""The probing detector on its own, with a stepped clock."""

from __future__ import annotations

import random

import pytest

from hashguard.access.probing import KEYS, MEMORY, ProbeDetector, ProbeLimits
from hashguard.errors import ConfigError
from hashguard.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


BASE = random.Random(7).getrandbits(256)


def test_a_star_of_one_bit_flips_raises_one_alarm_and_blocks() -> None:
    clock = Clock()
    detector = ProbeDetector(ProbeLimits(window=60, bits=2, limit=5, block=30), clock)
    assert detector.observe(1, [BASE], matched=True) is None
    alarms = [detector.observe(1, [BASE ^ (1 << bit)], matched=True) for bit in range(10)]
    # the 5th flip has the base and 4 earlier flips within 2 bits
    assert [a is not None for a in alarms] == [False] * 4 + [True] + [False] * 5
    assert alarms[4] is not None and (alarms[4].near, alarms[4].blocked) == (5, 30)
    assert detector.blocked_for(1) == 30 and detector.blocked_for(2) == 0
    clock.now += 29.5
    assert detector.blocked_for(1) == 0.5
    clock.now += 1
    assert detector.blocked_for(1) == 0
    # the old queries are out of the window a minute on: a new star starts from nothing
    clock.now += 60
    assert [detector.observe(1, [BASE ^ (3 << b)], matched=True) for b in range(4)] == [None] * 4


def test_repeats_far_queries_and_old_queries_do_not_count() -> None:
    clock = Clock()
    detector = ProbeDetector(ProbeLimits(window=60, bits=2, limit=3, block=30), clock)
    for _ in range(50):  # the same item over and over: a re-shared image
        assert detector.observe(1, [BASE], matched=True) is None
    rng = random.Random(1)
    for _ in range(50):  # different images
        assert detector.observe(1, [rng.getrandbits(256)], matched=True) is None
    for bit in range(2):
        assert detector.observe(1, [BASE ^ (1 << bit)], matched=True) is None
        clock.now += 61  # spread beyond the window
    assert detector.observe(1, [BASE ^ 4], matched=True) is None
    assert detector.blocked_for(1) == 0


def test_alert_only_alarms_at_most_once_per_window() -> None:
    clock = Clock()
    detector = ProbeDetector(ProbeLimits(window=60, bits=2, limit=2, block=0), clock)
    fired = [detector.observe(1, [BASE ^ (1 << b)], matched=True) is not None for b in range(6)]
    assert fired == [False, False, True, False, False, False]
    assert detector.blocked_for(1) == 0  # alert only
    clock.now += 61
    assert detector.observe(1, [BASE ^ (1 << 100)], matched=True) is None  # the window emptied
    assert detector.observe(1, [BASE ^ (1 << 101)], matched=True) is None
    assert detector.observe(1, [BASE ^ (1 << 102)], matched=True) is not None


def test_queries_that_did_not_match_are_counted_around_one_that_did() -> None:
    # The attack told only "matched" or not: one-bit flips around a point on the threshold's
    # edge; the flips that match are those towards the listed hash.
    detector = ProbeDetector(ProbeLimits(window=60, bits=2, limit=8, block=30), Clock())
    for bit in range(20):
        assert detector.observe(1, [BASE ^ (1 << bit)], matched=False) is None
    alarm = detector.observe(1, [BASE ^ (1 << 20)], matched=True)
    assert alarm is not None and alarm.near == 20
    # queries that match nothing never raise it, however close
    other = ProbeDetector(ProbeLimits(window=60, bits=2, limit=8, block=30), Clock())
    assert all(other.observe(1, [BASE ^ (1 << b)], matched=False) is None for b in range(256))


def test_memory_is_bounded() -> None:
    detector = ProbeDetector(ProbeLimits(limit=MEMORY), Clock())
    rng = random.Random(2)
    for key in range(KEYS + 10):
        detector.observe(key, [rng.getrandbits(256)], matched=True)
    assert len(detector._keys) == KEYS
    for _ in range(MEMORY * 2):
        detector.observe(0, [rng.getrandbits(256)], matched=True)
    assert len(detector._keys[0].recent) == MEMORY
    assert ProbeDetector(ProbeLimits(limit=0), Clock()).observe(1, [BASE], matched=True) is None


def test_settings_are_checked_at_start_up() -> None:
    loaded = Settings.load(db="sqlite://", env={"HASHGUARD_PROBE_LIMIT": "8"})
    assert (loaded.probe_limit, loaded.probe_bits, loaded.probe_block) == (8, 2, 300)
    assert Settings.load(db="sqlite://", env=loaded.to_env()).probe_limit == 8
    with pytest.raises(ConfigError, match="probe limit"):
        Settings.load(db="sqlite://", env={"HASHGUARD_PROBE_LIMIT": "1000"})
    with pytest.raises(ConfigError, match=r"HASHGUARD_PROBE_WINDOW .* must be a number of seconds"):
        Settings.load(db="sqlite://", env={"HASHGUARD_PROBE_WINDOW": "soon"})
