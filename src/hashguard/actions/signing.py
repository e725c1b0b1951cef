"""Signed webhook requests: ``Hashguard-Signature: t=<unix time>,v1=<hex>[,v1=<hex>]``, each
``v1`` the HMAC-SHA256 of ``"<t>.<body>"`` under one of the endpoint's secrets (two while a
secret is being rotated). The scheme Stripe uses, so receivers' existing code fits."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

HEADER = "Hashguard-Signature"
TOLERANCE = 300  # seconds a receiver should accept a signature's time off by (replays)


def sign(body: bytes, secrets: Sequence[str], at: int | None = None) -> str:
    """The header's value for ``body``, signed now (or at ``at``) with every secret."""
    t = int(time.time()) if at is None else at
    parts = [f"t={t}"] + [f"v1={_mac(s, t, body)}" for s in secrets]
    return ",".join(parts)


def verify(
    header: str, body: bytes, secrets: Sequence[str], *, tolerance: int = TOLERANCE,
    now: float | None = None,
) -> bool:  # fmt: skip
    """Whether ``header`` signs ``body`` with one of ``secrets`` within ``tolerance`` s."""
    fields = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in fields if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    t = int(stamps[0])
    if abs((time.time() if now is None else now) - t) > tolerance:
        return False
    given = [v for k, v in fields if k == "v1"]
    return any(hmac.compare_digest(_mac(s, t, body), v) for s in secrets for v in given)


def _mac(secret: str, t: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
