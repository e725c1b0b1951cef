"""Console accounts and their server-side sessions in the SQL store.

A session is a random token in the browser's cookie; the store holds only its SHA-256,
with the user, the session's CSRF token, and when it expires: after ``lifetime`` seconds
in any case, after ``idle`` seconds without a request, at logout, or when the account is
disabled. Every login, failed or not, is in the audit log.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from hashguard.access.accounts import (
    LOCKOUT,
    MAX_FAILURES,
    User,
    check_name,
    check_role,
    check_settings,
    hash_password,
    needs_rehash,
    verify_password,
)
from hashguard.errors import Conflict, NotFound, RateLimited, Unauthorized
from hashguard.store import audit
from hashguard.store import tables as t
from hashguard.store.database import begin_write

REFUSED = "wrong user name or password"  # the same for every failure: no name is confirmed
SEEN_EVERY = 60.0  # seconds: a session's last-seen time is written at most this often


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires_at: float
    token_hash: str


def _user(r: Any) -> User:
    return User(
        r.id,
        r.name,
        check_role(r.role),
        r.disabled_at is not None,
        check_settings(json.loads(r.settings or "{}")),
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Users:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, name: str, role: str, password: str, *, actor: str) -> User:
        row = {
            "name": check_name(name),
            "role": check_role(role),
            "password": hash_password(password),
        }
        try:
            with begin_write(self.engine) as conn:
                conn.execute(insert(t.users).values(**row))
                audit.record(conn, actor, "user.add", name, {"role": role})
        except IntegrityError:
            raise Conflict(f"a user named {name!r} already exists") from None
        return self.get(name)

    def get(self, name: str) -> User:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.users).where(t.users.c.name == name)).first()
        if row is None:
            raise NotFound(f"no user {name!r}", cli_hint="hashguard users list")
        return _user(row)

    def names(self, ids: builtins.list[int]) -> dict[int, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.users.c.id, t.users.c.name).where(t.users.c.id.in_(ids)))
            return {r.id: r.name for r in rows}

    def list(self) -> builtins.list[User]:
        with self.engine.connect() as conn:
            return [_user(r) for r in conn.execute(select(t.users).order_by(t.users.c.name))]

    def disable(self, name: str, *, actor: str) -> User:
        """Disabled at once: its sessions are revoked in the same transaction."""
        user = self.get(name)
        with begin_write(self.engine) as conn:
            done = conn.execute(
                update(t.users)
                .where(t.users.c.id == user.id, t.users.c.disabled_at.is_(None))
                .values(disabled_at=func.now())
            ).rowcount
            if done:
                conn.execute(
                    update(t.sessions)
                    .where(t.sessions.c.user_id == user.id, t.sessions.c.revoked_at.is_(None))
                    .values(revoked_at=time.time())
                )
                audit.record(conn, actor, "user.disable", name, {})
        return self.get(name)

    def set_password(self, name: str, password: str, *, actor: str) -> None:
        """A new password, which also lifts a lockout and ends the account's sessions (a
        password changed because it leaked must not leave the thief logged in)."""
        user = self.get(name)
        with begin_write(self.engine) as conn:
            conn.execute(
                update(t.sessions)
                .where(t.sessions.c.user_id == user.id, t.sessions.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )
            conn.execute(
                update(t.users)
                .where(t.users.c.id == user.id)
                .values(password=hash_password(password), failed_logins=0, locked_until=None)
            )
            audit.record(conn, actor, "user.password", name, {})

    def set_settings(self, user: User, settings: dict[str, Any]) -> User:
        checked = check_settings(settings)
        with begin_write(self.engine) as conn:
            conn.execute(
                update(t.users).where(t.users.c.id == user.id).values(settings=json.dumps(checked))
            )
            audit.record(conn, f"user:{user.name}", "user.settings", user.name, checked)
        return self.get(user.name)

    def login(self, name: str, password: str, *, now: float, address: str | None) -> User:
        """The user, if the password is right and the account active and not locked; else
        :class:`Unauthorized` (or :class:`RateLimited` while locked), audited either way."""
        with self.engine.connect() as conn:
            row = conn.execute(select(t.users).where(t.users.c.name == name[:64])).first()
        detail = {"address": address}
        if row is not None and row.locked_until is not None and row.locked_until > now:
            # Not even checked: a locked account cannot be guessed at while locked.
            audit_once(self.engine, name, "login.locked", detail)
            wait = row.locked_until - now
            raise RateLimited(f"too many failed logins: try again in {wait / 60:.0f} min", wait)
        ok = verify_password(row.password if row is not None else None, password)
        if not ok or row is None or row.disabled_at is not None:
            with begin_write(self.engine) as conn:
                if row is not None:
                    failures = (row.failed_logins or 0) + 1
                    locked = now + LOCKOUT if failures >= MAX_FAILURES else None
                    conn.execute(
                        update(t.users)
                        .where(t.users.c.id == row.id)
                        .values(failed_logins=0 if locked else failures, locked_until=locked)
                    )
                    if locked:
                        audit.record(conn, "console", "login.lockout", name[:64], detail)
                audit.record(conn, "console", "login.failed", name[:64], detail)
            raise Unauthorized(REFUSED)
        with begin_write(self.engine) as conn:
            values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
            if needs_rehash(row.password):
                values["password"] = hash_password(password)
            conn.execute(update(t.users).where(t.users.c.id == row.id).values(**values))
            audit.record(conn, f"user:{row.name}", "login", row.name, detail)
        return _user(row)

    def login_throttled(self, name: str, address: str) -> None:
        audit_once(self.engine, name, "login.throttled", {"address": address})

    # Sessions

    def start(self, user: User, *, now: float, lifetime: float, address: str | None) -> str:
        """A new session's token (for the cookie; never stored)."""
        token = secrets.token_urlsafe(32)
        with begin_write(self.engine) as conn:
            conn.execute(
                insert(t.sessions).values(
                    token_hash=_digest(token),
                    user_id=user.id,
                    csrf=secrets.token_urlsafe(32),
                    created_at=now,
                    seen_at=now,
                    expires_at=now + lifetime,
                    address=address,
                )
            )
        return token

    def session(self, token: str, *, now: float, idle: float) -> Session | None:
        """The live session of ``token``, or None (unknown, expired, idle, revoked, or its
        account disabled)."""
        if not token or len(token) > 128:
            return None
        digest = _digest(token)
        s, u = t.sessions, t.users
        q = (
            select(s, u.c.name, u.c.role, u.c.settings, u.c.disabled_at)
            .join(u, u.c.id == s.c.user_id)
            .where(s.c.token_hash == digest)
        )
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        if row is None or row.revoked_at is not None or row.disabled_at is not None:
            return None
        if row.expires_at <= now or row.seen_at + idle <= now:
            return None
        if now - row.seen_at >= SEEN_EVERY:
            with begin_write(self.engine) as conn:
                conn.execute(update(s).where(s.c.token_hash == digest).values(seen_at=now))
        user = User(
            row.user_id,
            row.name,
            check_role(row.role),
            False,
            check_settings(json.loads(row.settings or "{}")),
        )
        return Session(user, row.csrf, row.expires_at, digest)

    def end(self, session: Session, *, now: float) -> None:
        with begin_write(self.engine) as conn:
            conn.execute(
                update(t.sessions)
                .where(t.sessions.c.token_hash == session.token_hash)
                .values(revoked_at=now)
            )
            audit.record(conn, f"user:{session.user.name}", "logout", session.user.name, {})


def audit_once(engine: Engine, target: str, action: str, detail: dict[str, Any]) -> None:
    with begin_write(engine) as conn:
        audit.record(conn, "console", action, target[:64], detail)
