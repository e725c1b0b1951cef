"""What the authorities' API clients share: retrying transient failures with backoff."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Retrying:
    """How a client retries: up to ``retries`` times, waiting ``backoff`` seconds, doubled
    each time."""

    retries: int
    backoff: float
    sleep: Callable[[float], None]

    def send(
        self, http: httpx.Client, method: str, url: str, **request: Any
    ) -> tuple[httpx.Response | None, str]:
        """The first answer that is not transient (a transport error, a 5xx, a 429);
        ``(None, why)`` when every attempt was transient."""
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                r = http.request(method, url, **request)
            except httpx.TransportError as e:
                last = f"{type(e).__name__}: {e}"
                continue
            if r.status_code >= 500 or r.status_code == 429:
                last = f"HTTP {r.status_code}"
                continue
            return r, ""
        return None, f"gave up after {self.retries + 1} attempts ({last})"
