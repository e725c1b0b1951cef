"""Spotting a key that probes the lists: many near-identical PDQ hashes that match.

Even told only "matched" or "not", a caller can recover a listed hash: from a copy near the
edge of the threshold, flipping one bit per query says which way each bit of the listed hash
goes. Every such attack sends many *distinct* queries a bit or two apart around one point,
and many of them match. Platform traffic rarely does: a re-shared item comes back as the
same hash (not counted), and re-encoded copies mostly differ by more bits, in no star pattern.

So for each key this remembers the PDQ hashes of its recent queries that matched (a bounded
ring, in memory, per process); a matched query with ``limit`` or more remembered neighbours
within ``bits`` (but not equal) inside ``window`` seconds raises an alarm, at most once per
window, and blocks the key for ``block`` seconds. Content that matches nothing is never
looked at: the clean path pays nothing.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hashguard.errors import ConfigError

MEMORY = 256  # matched queries remembered per key
KEYS = 1024  # keys remembered per process (the most recently seen)


@dataclass(frozen=True)
class ProbeLimits:
    window: float = 60.0  # seconds over which near-identical queries are counted
    bits: int = 2  # this many bits apart or fewer, but not equal: near-identical
    limit: int = 32  # near-identical matched queries that raise the alarm; 0: off
    block: float = 300.0  # seconds the key is refused (429) after an alarm; 0: alert only

    def __post_init__(self) -> None:
        if not 0 <= self.limit <= MEMORY:
            raise ConfigError(f"probe limit must be 0 (off) to {MEMORY}, not {self.limit}")
        if not 0 <= self.bits <= 64:
            raise ConfigError(f"probe bits must be 0 to 64, not {self.bits}")
        if self.window <= 0 or self.block < 0:
            raise ConfigError("probe window must be over 0 s and probe block 0 s or more")


@dataclass(frozen=True)
class Alarm:
    key_id: int
    near: int  # remembered queries within ``bits`` of the one that raised it
    blocked: float  # seconds the key is now refused


@dataclass
class _Key:
    recent: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=MEMORY))
    quiet_until: float = 0.0  # no second alarm before
    blocked_until: float = 0.0


class ProbeDetector:
    def __init__(
        self, limits: ProbeLimits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or ProbeLimits()
        self.clock = clock  # seconds; tests replace it to step time exactly
        self._keys: OrderedDict[int, _Key] = OrderedDict()
        self._lock = threading.Lock()

    def blocked_for(self, key_id: int) -> float:
        """Seconds the key is still refused for probing; 0 if it is not."""
        state = self._keys.get(key_id)  # a dict read: no lock needed on the hot path
        if state is None:
            return 0.0
        return max(0.0, state.blocked_until - self.clock())

    def observe(self, key_id: int, hashes: Iterable[int]) -> Alarm | None:
        """Remember ``hashes`` (PDQ, as ints) of a query of ``key_id`` that matched."""
        limits = self.limits
        if limits.limit == 0:
            return None
        now = self.clock()
        alarm = None
        with self._lock:
            state = self._keys.get(key_id)
            if state is None:
                state = self._keys[key_id] = _Key()
                if len(self._keys) > KEYS:
                    self._keys.popitem(last=False)
            else:
                self._keys.move_to_end(key_id)
            recent = state.recent
            while recent and recent[0][0] < now - limits.window:
                recent.popleft()
            for h in hashes:
                distances = [(h ^ seen).bit_count() for _, seen in recent]
                if 0 in distances:
                    continue  # the same hash again tells the caller nothing new
                near = sum(1 for d in distances if d <= limits.bits)
                recent.append((now, h))
                if near >= limits.limit and now >= state.quiet_until:
                    state.blocked_until = now + limits.block
                    state.quiet_until = now + max(limits.block, limits.window)
                    alarm = Alarm(key_id, near, limits.block)
        return alarm
