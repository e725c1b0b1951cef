"""Content kept for review, sealed (hashguard.review.sealing), in the SQL store: one row
per content key, deleted when its item is decided or at ``expires_at``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from hashguard.review.sealing import KeyRing
from hashguard.store import tables as t
from hashguard.store.database import begin_write


@dataclass(frozen=True)
class Kept:
    content_key: str
    media_type: str
    data: bytes
    expires_at: float


class KeptContent:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def put(
        self,
        ring: KeyRing,
        content_key: str,
        media_type: str,
        data: bytes,
        *,
        now: float,
        days: float,
    ) -> bool:
        """Seal and keep ``data``; False if this content is kept already."""
        key_id, sealed = ring.seal(data, content_key)
        try:
            with begin_write(self.engine) as conn:
                conn.execute(
                    insert(t.kept).values(
                        content_key=content_key[:300],
                        media_type=media_type[:64],
                        key_id=key_id,
                        sealed=sealed,
                        created_at=now,
                        expires_at=now + days * 86400,
                    )
                )
        except IntegrityError:
            return False
        return True

    def get(self, ring: KeyRing, content_key: str, *, now: float) -> Kept | None:
        """The content, opened; None if none is kept (or it is past its end)."""
        k = t.kept
        with self.engine.connect() as conn:
            row = conn.execute(select(k).where(k.c.content_key == content_key)).first()
        if row is None or row.expires_at <= now:
            return None
        data = ring.open(row.key_id, bytes(row.sealed), row.content_key)
        return Kept(row.content_key, row.media_type, data, row.expires_at)

    def has(self, content_key: str, *, now: float) -> bool:
        k = t.kept
        q = select(k.c.id).where(k.c.content_key == content_key, k.c.expires_at > now)
        with self.engine.connect() as conn:
            return conn.execute(q).first() is not None

    def delete(self, content_key: str) -> int:
        with begin_write(self.engine) as conn:
            return conn.execute(delete(t.kept).where(t.kept.c.content_key == content_key)).rowcount

    def purge(self, now: float) -> int:
        with begin_write(self.engine) as conn:
            return conn.execute(delete(t.kept).where(t.kept.c.expires_at <= now)).rowcount

    def rekey(self, ring: KeyRing) -> int:
        """Reseal every row not sealed with the newest key; returns how many."""
        k = t.kept
        done = 0
        with self.engine.connect() as conn:
            ids = [i for (i,) in conn.execute(select(k.c.id).where(k.c.key_id != ring.current))]
        for row_id in ids:
            with begin_write(self.engine) as conn:
                row = conn.execute(select(k).where(k.c.id == row_id)).first()
                if row is None:
                    continue
                data = ring.open(row.key_id, bytes(row.sealed), row.content_key)
                key_id, sealed = ring.seal(data, row.content_key)
                conn.execute(update(k).where(k.c.id == row_id).values(key_id=key_id, sealed=sealed))
                done += 1
        return done
