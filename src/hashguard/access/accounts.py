"""Console accounts: roles, passwords and the login rules (the table is store/user_table.py).

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second
recommended setting) and rehashed at login when those defaults move. An account is locked
for :data:`LOCKOUT` seconds after :data:`MAX_FAILURES` wrong passwords in a row; a login
for an unknown name costs the same hash as a wrong password, so timing tells nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hashguard.errors import InvalidValue

Role = Literal["reviewer", "lead", "admin"]
ROLES: tuple[Role, ...] = ("reviewer", "lead", "admin")  # each may do what those before may
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 takes any length; a megabyte "password" is a denial of service
MAX_FAILURES = 5  # wrong passwords in a row before a lockout
LOCKOUT = 15 * 60.0  # seconds
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_hasher = PasswordHasher()
# What an unknown name is checked against: the same work as a real account's hash.
_DUMMY = _hasher.hash("not a password of anyone's")

# Per-user preview choices (the console's settings page); anything else is refused.
PREVIEW_DEFAULTS: dict[str, Any] = {"greyscale": True}  # revealed previews in grey


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role
    disabled: bool = False
    settings: dict[str, Any] = field(default_factory=lambda: dict(PREVIEW_DEFAULTS))

    def may(self, role: Role) -> bool:
        """Whether this user holds ``role`` or a higher one."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "disabled": self.disabled}


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InvalidValue(f"user name {name!r}: 1-64 letters, digits and ._@- (no spaces)")
    return name


def check_role(role: str) -> Role:
    for r in ROLES:
        if r == role:
            return r
    raise InvalidValue(f"unknown role {role!r}: use {', '.join(ROLES)}")


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidValue(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidValue(f"a password has at most {MAX_PASSWORD} characters")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(check_password(password))


def verify_password(stored: str | None, password: str) -> bool:
    """``stored`` None: an unknown user, checked against a dummy hash all the same."""
    if len(password) > MAX_PASSWORD:
        return False
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


def check_settings(given: dict[str, Any]) -> dict[str, Any]:
    out = dict(PREVIEW_DEFAULTS)
    for key, value in given.items():
        if key not in PREVIEW_DEFAULTS or not isinstance(value, bool):
            raise InvalidValue(f"unknown setting {key!r} (expected {', '.join(PREVIEW_DEFAULTS)})")
        out[key] = value
    return out
