"""API keys: made here, shown once, stored only as hashes.

A key is ``hg_`` + 8 characters of prefix + ``_`` + 32 random bytes in URL-safe base64. The
prefix is stored in clear so listings can tell keys apart; the whole key only as a SHA-256
hash. Keys carry 256 bits of randomness, so a fast unsalted hash is enough: there is nothing
to brute-force, unlike a password.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hashguard.banks.model import validate_name
from hashguard.errors import InvalidValue, NotFound

# match: submit content or hashes, get verdicts (never read list entries back);
# match:distance: with match, also how close each match is (PDQ distance, the listed URL or
# keyword that matched): an oracle that helps recover listed hashes, so off unless granted;
# curate: banks, entries, imports, sources, the change log; admin: keys, and everything else.
# spread: read where content was shared (the seen log), which a match key must not learn
# report: authority reports, transparency statistics, statements of reasons (compliance)
SCOPES = ("match", "match:distance", "spread", "curate", "report", "admin")
DISTANCE = "match:distance"


def parse_scopes(values: list[str] | str) -> tuple[str, ...]:
    items = values.split(",") if isinstance(values, str) else values
    given = {s.strip() for s in items if s.strip()}
    if not given:
        raise InvalidValue(f"a key needs at least one scope: {', '.join(SCOPES)}")
    for scope in given:
        if scope not in SCOPES:
            raise InvalidValue(f"unknown scope {scope!r}: use {', '.join(SCOPES)}")
    if DISTANCE in given and "match" not in given:
        raise InvalidValue(f"scope {DISTANCE!r} adds to 'match': give 'match' too")
    return tuple(sorted(given, key=SCOPES.index))


def new_key() -> tuple[str, str]:
    """A fresh key and its prefix."""
    prefix = secrets.token_hex(4)
    return f"hg_{prefix}_{secrets.token_urlsafe(32)}", prefix


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    rate_limit: int | None = None  # requests per second; None: the server's default
    created_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes

    @property
    def reads_lists(self) -> bool:
        """May read entries back (curate, admin): nothing in a match answer is news to it."""
        return "curate" in self.scopes or "admin" in self.scopes

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "prefix": self.prefix,
            "scopes": list(self.scopes),
            "rate_limit": self.rate_limit,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


@dataclass(frozen=True)
class NewKey:
    """A key about to be stored: checked, named, and its secret (shown once)."""

    name: str
    scopes: tuple[str, ...]
    rate_limit: int | None
    secret: str
    prefix: str

    @classmethod
    def make(cls, name: str | None, scopes: list[str], rate_limit: int | None) -> NewKey:
        """Without a name the key is named for its scopes and prefix (``match-1a2b3c4d``)."""
        checked = parse_scopes(scopes)
        if rate_limit is not None and rate_limit < 0:
            raise InvalidValue(f"rate limit must be 0 (none) or more requests/s, not {rate_limit}")
        secret, prefix = new_key()
        name = name or f"{'-'.join(checked)}-{prefix}"
        validate_name(name, "key")
        return cls(name, checked, rate_limit, secret, prefix)


def no_key(name: str) -> NotFound:
    return NotFound(
        f"no API key named {name!r}",
        cli_hint="see `hashguard keys list`",
        http_hint="see GET /v1/keys",
    )
