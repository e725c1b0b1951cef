"""Webhook endpoints: what they receive, where they may point, and the retry schedule."""

from __future__ import annotations

import ipaddress
import random
import re
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from hashguard.errors import InvalidValue

# What an endpoint may subscribe to: verdicts by their kind, and the review console's
# decisions on held items and on appeals (hashguard.review).
EVENTS = ("review", "block", "report", "decision", "appeal")
MAX_ATTEMPTS = 10  # then the delivery is dead-lettered (replayable)
FIRST_RETRY = 2.0  # seconds; doubled each attempt, jittered +-50%, at most MAX_RETRY
MAX_RETRY = 3600.0
TIMEOUT = 10.0  # seconds for one delivery request, connecting included
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIN_SECRET = 16


@dataclass(frozen=True)
class Webhook:
    id: int
    name: str
    url: str
    events: tuple[str, ...]
    secrets: tuple[str, ...] = field(repr=False)  # newest first; two while rotating
    enabled: bool = True

    def wants(self, kind: str) -> bool:
        """``kind``: ``verdict.block``, ``decision.confirm``, ``appeal.upheld``, ..."""
        group, _, name = kind.partition(".")
        return (name if group == "verdict" else group) in self.events

    def as_dict(self) -> dict[str, Any]:
        """Never the secrets: how many there are (2 while one is being rotated out)."""
        return {"name": self.name, "url": self.url, "events": list(self.events),
                "secrets": len(self.secrets), "enabled": self.enabled}  # fmt: skip


def check_events(events: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    unknown = [e for e in events if e not in EVENTS]
    if unknown or not events:
        raise InvalidValue(f"events: one or more of {', '.join(EVENTS)} (got {list(events)})")
    return tuple(e for e in EVENTS if e in events)


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InvalidValue(f"webhook name {name!r}: 1-64 letters, digits and ._-")
    return name


def check_secret(secret: str) -> str:
    if len(secret) < MIN_SECRET or len(secret) > 256:
        raise InvalidValue(f"a webhook secret needs {MIN_SECRET} to 256 characters")
    return secret


def check_url(url: str, *, allow_private: bool) -> str:
    """An http(s) URL whose host resolves to public addresses only, unless private and
    loopback targets are allowed (``webhook_allow_private``): a webhook must not become a
    way to reach the service's own network. Checked when added and before each delivery
    (a name may resolve elsewhere later)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidValue(f"webhook URL {url!r}: must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise InvalidValue("webhook URL: no credentials in the URL; sign with the secret")
    if allow_private:
        return url
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError as e:
        raise InvalidValue(f"webhook URL {url!r}: host does not resolve ({e})") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise InvalidValue(
                f"webhook URL {url!r}: {parts.hostname} is {address}, a private, loopback or "
                "reserved address; set webhook_allow_private (HASHGUARD_WEBHOOK_ALLOW_PRIVATE=1) "
                "to allow it"
            )
    return url


def retry_delay(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds before attempt ``attempts + 1``: exponential, with jitter so that a
    recovering endpoint is not hit by every pending delivery at once."""
    base = min(FIRST_RETRY * 2.0 ** (attempts - 1), MAX_RETRY)
    jitter: float = (rng or random.Random()).random()
    return base * (0.5 + jitter)
