"""Content kept for review, sealed at rest with AES-256-GCM (cryptography's AESGCM).

The keys come from a file (setting ``review_keys_file``) of lines ``ID:KEY``, KEY 32 bytes
in URL-safe base64, newest first: the newest seals, any of them opens. To rotate, put a new
line on top, then ``hashguard kept rekey`` reseals everything with it and the old line can
go. A sealed blob is ``nonce (12 bytes) + ciphertext + tag``, with the item's content key
as associated data: a blob copied onto another item's row does not open.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hashguard.errors import ConfigError

NONCE = 12
_ID = re.compile(r"^[A-Za-z0-9._-]{1,32}$")


class Unsealable(Exception):
    """A blob that no key opens (a key taken out too early, or a damaged row)."""


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[tuple[str, bytes], ...] = field(repr=False)  # (id, key), newest first

    @property
    def current(self) -> str:
        return self.keys[0][0]

    def seal(self, data: bytes, bound_to: str) -> tuple[str, bytes]:
        key_id, key = self.keys[0]
        nonce = os.urandom(NONCE)
        return key_id, nonce + AESGCM(key).encrypt(nonce, data, bound_to.encode())

    def open(self, key_id: str, sealed: bytes, bound_to: str) -> bytes:
        for kid, key in self.keys:
            if kid == key_id:
                try:
                    return AESGCM(key).decrypt(sealed[:NONCE], sealed[NONCE:], bound_to.encode())
                except InvalidTag:
                    raise Unsealable("the kept content does not open: damaged") from None
        raise Unsealable(f"the key {key_id!r} that sealed this content is no longer configured")

    @classmethod
    def parse(cls, text: str, where: str) -> KeyRing:
        keys: list[tuple[str, bytes]] = []
        for n, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key_id, sep, encoded = line.partition(":")
            try:
                key = base64.urlsafe_b64decode(encoded.strip() + "==")
            except (binascii.Error, ValueError):
                key = b""
            if not sep or not _ID.match(key_id) or len(key) != 32:
                raise ConfigError(
                    f"{where} line {n}: expected ID:KEY, KEY 32 bytes in URL-safe base64 "
                    "(make one with `hashguard kept keygen`)"
                )
            if any(k == key_id for k, _ in keys):
                raise ConfigError(f"{where} line {n}: key id {key_id!r} is there twice")
            keys.append((key_id, key))
        if not keys:
            raise ConfigError(f"{where} holds no key")
        return cls(tuple(keys))

    @classmethod
    def load(cls, path: Path) -> KeyRing:
        try:
            mode = path.stat().st_mode
            text = path.read_text()
        except OSError as e:
            raise ConfigError(f"cannot read the review keys file {path}: {e.strerror}") from None
        if mode & 0o077:
            raise ConfigError(
                f"the review keys file {path} is readable by others: chmod 600 {path}"
            )
        return cls.parse(text, str(path))


def new_key_line(key_id: str | None = None) -> str:
    key_id = key_id or f"k{secrets.token_hex(4)}"
    if not _ID.match(key_id):
        raise ConfigError(f"key id {key_id!r}: 1-32 letters, digits and ._-")
    return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip('=')}"
