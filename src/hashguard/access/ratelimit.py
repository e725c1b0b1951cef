"""Per-key rate limits: a token bucket per key, in each serving process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """``rate`` requests per second on average, bursts up to ``rate`` (one second's worth).

    A request costing more than a second's worth (a large batch) passes when the bucket is
    full and leaves it in debt, so the key waits until the debt is paid; otherwise it could
    never pass. With N worker processes each holds 1/N of a key's rate: the kernel spreads
    connections evenly over the workers, so together they allow the key's rate.
    """

    def __init__(self, share: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.share = share
        self.clock = clock  # seconds; tests replace it to step time exactly
        self._buckets: dict[int, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key_id: int, rate: int, cost: int = 1, *, taken: int = 0) -> float:
        """0 if allowed, else the seconds to wait before ``cost`` requests would be.

        ``taken``: what an earlier call took for the same request (a batch's first item,
        charged before the batch was read), given back first, so the request is judged
        whole and a refused one costs nothing.
        """
        if rate <= 0:
            return 0.0
        per_second = max(rate * self.share, 1e-9)
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key_id)
            if bucket is None:
                bucket = self._buckets[key_id] = _Bucket(per_second, now)
            refilled = bucket.tokens + (now - bucket.stamp) * per_second
            bucket.tokens = min(per_second, refilled) + taken
            bucket.stamp = now
            needed = min(float(cost), per_second)
            if bucket.tokens >= needed:
                bucket.tokens -= cost
                return 0.0
            return (needed - bucket.tokens) / per_second
