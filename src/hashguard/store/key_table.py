"""API keys in the store (hashes only; see :mod:`hashguard.access.api_keys`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from hashguard.access.api_keys import ApiKey, hash_key, new_key, parse_scopes
from hashguard.banks.model import validate_name
from hashguard.errors import Conflict, InvalidValue, NotFound
from hashguard.store import audit, notify
from hashguard.store import tables as t
from hashguard.store.database import begin_write


def _key(r: Any) -> ApiKey:
    return ApiKey(
        r.id, r.name, r.prefix, parse_scopes(r.scopes), r.rate_limit, r.created_at, r.revoked_at
    )


class Keys:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(
        self, name: str | None, scopes: list[str], *, rate_limit: int | None = None, actor: str
    ) -> tuple[ApiKey, str]:
        """A new key and its secret, which is shown this once and never stored. Without a
        name the key is named for its scopes and prefix (``match-1a2b3c4d``)."""
        checked = parse_scopes(scopes)
        if rate_limit is not None and rate_limit < 0:
            raise InvalidValue(f"rate limit must be 0 (none) or more requests/s, not {rate_limit}")
        secret, prefix = new_key()
        name = name or f"{'-'.join(checked)}-{prefix}"
        validate_name(name, "key")
        try:
            with begin_write(self.engine) as conn:
                conn.execute(
                    insert(t.api_keys).values(
                        name=name,
                        key_hash=hash_key(secret),
                        prefix=prefix,
                        scopes=",".join(checked),
                        rate_limit=rate_limit,
                    )
                )
                audit.record(conn, actor, "key.create", name, {"scopes": list(checked)})
                notify.changed(conn)
        except IntegrityError:
            raise Conflict(f"a key named {name!r} already exists") from None
        return self.get(name), secret

    def revoke(self, name: str, *, actor: str) -> ApiKey:
        with begin_write(self.engine) as conn:
            done = conn.execute(
                update(t.api_keys)
                .where(t.api_keys.c.name == name, t.api_keys.c.revoked_at.is_(None))
                .values(revoked_at=func.now())
            ).rowcount
            if done:
                audit.record(conn, actor, "key.revoke", name, {})
                notify.changed(conn)
        return self.get(name)

    def get(self, name: str) -> ApiKey:
        with self.engine.connect() as conn:
            r = conn.execute(select(t.api_keys).where(t.api_keys.c.name == name)).first()
        if r is None:
            raise NotFound(
                f"no API key named {name!r}",
                cli_hint="see `hashguard keys list`",
                http_hint="see GET /v1/keys",
            )
        return _key(r)

    def list(self) -> list[ApiKey]:
        with self.engine.connect() as conn:
            return [_key(r) for r in conn.execute(select(t.api_keys).order_by(t.api_keys.c.id))]

    def by_hash(self) -> dict[str, ApiKey]:
        """Every key by its hash: what a server caches to check keys without a query."""
        with self.engine.connect() as conn:
            return {r.key_hash: _key(r) for r in conn.execute(select(t.api_keys))}

    def find(self, secret: str) -> ApiKey | None:
        with self.engine.connect() as conn:
            r = conn.execute(
                select(t.api_keys).where(t.api_keys.c.key_hash == hash_key(secret))
            ).first()
        return _key(r) if r is not None else None
