"""Per-key rate limits: a token bucket per key, in each serving process."""

from __future__ import annotations

import threading
import time
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

    def __init__(self, share: float = 1.0) -> None:
        self.share = share
        self._buckets: dict[int, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key_id: int, rate: int, cost: int = 1) -> float:
        """0 if allowed, else the seconds to wait before ``cost`` requests would be."""
        if rate <= 0:
            return 0.0
        per_second = max(rate * self.share, 1e-9)
        capacity = max(per_second, float(cost))
        now = time.monotonic()
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
