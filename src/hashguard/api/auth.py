"""Bearer API keys and scopes on every route, and per-key rate limits.

Keys are checked against an in-memory copy of the key table that the change-log follower
refreshes with the indexes, so a request costs no database round-trip; an unknown key is
looked up once (it may have just been made) and remembered as unknown for a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hashguard.access.api_keys import ApiKey, hash_key
from hashguard.access.probing import ProbeDetector, ProbeLimits
from hashguard.access.ratelimit import RateLimiter
from hashguard.access.visibility import View
from hashguard.errors import Forbidden, ProbingSuspected, RateLimited, Unauthorized
from hashguard.store.repositories import KeyRepository

NEGATIVE_TTL = 1.0  # seconds an unknown key is remembered as unknown
NEGATIVE_MAX = 10_000
GET_A_KEY = (
    "an operator makes one with `hashguard keys create --scope match` on the server "
    "(or POST /v1/keys with an admin key)"
)


@dataclass(frozen=True)
class Caller:
    """Who is calling: a key, or the local development mode without keys."""

    name: str
    key: ApiKey | None

    @property
    def actor(self) -> str:
        return f"key:{self.name}" if self.key else "local-dev"

    @property
    def view(self) -> View:
        """What this caller sees of a match (see :mod:`hashguard.access.visibility`)."""
        return View.of(self.key)


class Authenticator:
    def __init__(
        self,
        keys: KeyRepository,
        *,
        required: bool = True,
        default_rate: int = 0,
        share: float = 1.0,
        probing: ProbeLimits | None = None,
    ) -> None:
        self.keys = keys
        self.required = required
        self.default_rate = default_rate
        self.limiter = RateLimiter(share)
        self.probes = ProbeDetector(probing)
        self._known: dict[str, ApiKey] = {}
        self._unknown: dict[str, float] = {}
        self._lock = threading.Lock()

    def refresh(self) -> None:
        known = self.keys.by_hash()
        with self._lock:
            self._known = known
            self._unknown.clear()

    def lookup(self, secret: str) -> ApiKey | None:
        digest = hash_key(secret)
        with self._lock:
            key = self._known.get(digest)
            unknown_until = self._unknown.get(digest, 0.0)
        if key is not None:
            return key
        if unknown_until > time.monotonic():
            return None
        found = self.keys.find(secret)
        with self._lock:
            if found is not None:
                self._known[digest] = found
            else:
                if len(self._unknown) >= NEGATIVE_MAX:
                    self._unknown.clear()
                self._unknown[digest] = time.monotonic() + NEGATIVE_TTL
        return found

    def check(self, secret: str | None, scope: str, cost: int = 1) -> Caller:
        if not self.required:
            return Caller("local-dev", None)
        if not secret:
            raise Unauthorized(f"send an API key: 'Authorization: Bearer <key>'; {GET_A_KEY}")
        key = self.lookup(secret)
        if key is None:
            raise Unauthorized(f"unknown API key; {GET_A_KEY}")
        if not key.active:
            raise Unauthorized(f"API key {key.name!r} was revoked")
        if not key.allows(scope):
            raise Forbidden(
                f"API key {key.name!r} has scopes {', '.join(key.scopes)}; "
                f"this call needs {scope!r}"
            )
        self.refuse_if_probing(key)
        rate = self.default_rate if key.rate_limit is None else key.rate_limit
        wait = self.limiter.take(key.id, rate, cost)
        if wait:
            raise RateLimited(
                f"API key {key.name!r} is over its limit of {rate} requests/s; "
                f"retry in {wait:.2f} s",
                wait,
            )
        return Caller(key.name, key)

    def refuse_if_probing(self, key: ApiKey) -> None:
        blocked = self.probes.blocked_for(key.id)
        if blocked:
            raise ProbingSuspected(
                f"API key {key.name!r} is blocked for {blocked:.0f} s more: its queries looked "
                "like probing of the lists (many near-identical hashes); the operator was alerted",
                blocked,
            )

    def charge(self, caller: Caller, items: int) -> None:
        """Charge a batch of ``items`` whole against the caller's key; its first item was
        charged already, when the route was entered."""
        if caller.key is None:
            return
        rate = self.default_rate if caller.key.rate_limit is None else caller.key.rate_limit
        wait = self.limiter.take(caller.key.id, rate, items, taken=1)
        if wait:
            raise RateLimited(
                f"API key {caller.name!r} is over its limit of {rate} requests/s "
                f"for a batch of {items}; retry in {wait:.2f} s",
                wait,
            )


_bearer = HTTPBearer(auto_error=False, description="an API key made by `hashguard keys create`")


def require(scope: str) -> Callable[..., Awaitable[Caller]]:
    """A route dependency: the caller, if their key has ``scope`` and is within its rate."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Caller:
        auth: Authenticator = request.app.state.auth
        return auth.check(credentials.credentials if credentials else None, scope)

    return dependency


# Route parameter types: `caller: Curator` makes a route need the ``curate`` scope.
Matcher = Annotated[Caller, Depends(require("match"))]
Curator = Annotated[Caller, Depends(require("curate"))]
Admin = Annotated[Caller, Depends(require("admin"))]
Tracer = Annotated[Caller, Depends(require("spread"))]
Compliance = Annotated[Caller, Depends(require("report"))]
