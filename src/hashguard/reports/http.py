"""What the authorities' API clients share: retrying transient failures with backoff."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx


def send_retrying(
    http: httpx.Client, method: str, url: str, *, retries: int, backoff: float,
    sleep: Callable[[float], None], **request: Any,
) -> tuple[httpx.Response | None, str]:  # fmt: skip
    """The first answer that is not transient (a transport error, a 5xx, a 429), after up
    to ``retries`` retries waiting ``backoff`` seconds, doubled each time; ``(None, why)``
    when every attempt was transient."""
    last = ""
    for attempt in range(retries + 1):
        if attempt:
            sleep(backoff * 2 ** (attempt - 1))
        try:
            r = http.request(method, url, **request)
        except httpx.TransportError as e:
            last = f"{type(e).__name__}: {e}"
            continue
        if r.status_code >= 500 or r.status_code == 429:
            last = f"HTTP {r.status_code}"
            continue
        return r, ""
    return None, last
