"""API keys in the SQL store (hashes only; see :mod:`hashguard.access.api_keys`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from hashguard.access.api_keys import ApiKey, NewKey, hash_key, no_key, parse_scopes
from hashguard.errors import Conflict
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
        """A new key and its secret, which is shown this once and never stored."""
        new = NewKey.make(name, scopes, rate_limit)
        try:
            with begin_write(self.engine) as conn:
                conn.execute(
                    insert(t.api_keys).values(
                        name=new.name,
                        key_hash=hash_key(new.secret),
                        prefix=new.prefix,
                        scopes=",".join(new.scopes),
                        rate_limit=new.rate_limit,
                    )
                )
                audit.record(conn, actor, "key.create", new.name, {"scopes": list(new.scopes)})
                notify.changed(conn, notify.KEYS)
        except IntegrityError:
            raise Conflict(f"a key named {new.name!r} already exists") from None
        return self.get(new.name), new.secret

    def revoke(self, name: str, *, actor: str) -> ApiKey:
        with begin_write(self.engine) as conn:
            done = conn.execute(
                update(t.api_keys)
                .where(t.api_keys.c.name == name, t.api_keys.c.revoked_at.is_(None))
                .values(revoked_at=func.now())
            ).rowcount
            if done:
                audit.record(conn, actor, "key.revoke", name, {})
                notify.changed(conn, notify.KEYS)
        return self.get(name)

    def get(self, name: str) -> ApiKey:
        with self.engine.connect() as conn:
            r = conn.execute(select(t.api_keys).where(t.api_keys.c.name == name)).first()
        if r is None:
            raise no_key(name)
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
