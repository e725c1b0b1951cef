"""Spotting a key that probes the lists: many near-identical PDQ queries around a match.

Even told only "matched" or "not", a caller can recover a listed hash: walk a copy to the
edge of the threshold, then flip one bit per query; the flips that still match are the bits
where the listed hash differs. Every such attack sends many *distinct* queries a bit or two
apart around one point, some of which match. Platform traffic rarely does: a re-shared item
comes back as the same hash (counted once), and re-encoded copies mostly differ by more bits
and come in handfuls, not dozens.

So for each key this remembers its last ``MEMORY`` distinct PDQ queries (in memory, per
process: appending one is a dict insert, all that content matching nothing costs); a query
that *matches* with ``limit`` or more remembered neighbours within ``bits`` (but not equal)
inside ``window`` seconds raises an alarm, at most once per window, and blocks the key for
``block`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hashguard.errors import ConfigError

MEMORY = 256  # distinct PDQ queries remembered per key
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
    # hash -> when last queried, oldest first
    recent: OrderedDict[int, float] = field(default_factory=OrderedDict)
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

    def observe(self, key_id: int, hashes: Iterable[int], *, matched: bool) -> Alarm | None:
        """Remember ``hashes`` (PDQ, as ints) of one query of ``key_id``; if it ``matched``,
        count its remembered neighbours."""
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
            for h in hashes:
                if h in recent:  # the same hash again tells the caller nothing new
                    recent.move_to_end(h)
                    recent[h] = now
                    continue
                if matched:
                    near = sum(
                        1
                        for seen, at in recent.items()
                        if at >= now - limits.window and (h ^ seen).bit_count() <= limits.bits
                    )
                    if near >= limits.limit and now >= state.quiet_until:
                        state.blocked_until = now + limits.block
                        state.quiet_until = now + max(limits.block, limits.window)
                        alarm = Alarm(key_id, near, limits.block)
                recent[h] = now
                if len(recent) > MEMORY:
                    recent.popitem(last=False)
        return alarm
