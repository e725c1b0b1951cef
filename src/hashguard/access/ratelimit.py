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

    With N worker processes each holds 1/N of a key's rate: the kernel spreads connections
    evenly over the workers, so together they allow the key's rate.
    """

    def __init__(self, share: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.share = share
        self.clock = clock  # seconds; tests replace it to step time exactly
        self._buckets: dict[int, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key_id: int, rate: int, cost: int = 1) -> float:
        """0 if allowed, else the seconds to wait before ``cost`` requests would be."""
        if rate <= 0:
            return 0.0
        per_second = max(rate * self.share, 1e-9)
        capacity = max(per_second, float(cost))
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key_id)
            if bucket is None:
                bucket = self._buckets[key_id] = _Bucket(capacity, now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.stamp) * per_second)
            bucket.stamp = now
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return 0.0
            return (cost - bucket.tokens) / per_second

    def refund(self, key_id: int, rate: int, cost: int) -> None:
        """Give back ``cost`` taken for a request that was then refused (a batch's first item)."""
        per_second = max(rate * self.share, 1e-9)
        with self._lock:
            bucket = self._buckets.get(key_id)
            if bucket is not None:
                bucket.tokens = min(max(per_second, bucket.tokens), bucket.tokens + cost)
