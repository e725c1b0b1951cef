"""Feed signing keys: Ed25519 key pairs in PEM files, and the ids that name them."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hashguard.errors import InvalidValue


def key_id(key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw 32-byte public key."""
    raw = key.public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def trusted_keys(keys: Iterable[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    """Keys by key id: what a subscriber verifies manifests with."""
    return {key_id(k): k for k in keys}


def generate_key(private_path: Path, public_path: Path, password: bytes | None = None) -> str:
    """Write a new key pair as PEM files (the private one mode 0600); return its key id.

    Existing files are never overwritten: losing a feed's private key means re-keying
    every subscriber.
    """
    for path in (private_path, public_path):
        if path.exists():
            raise InvalidValue(f"{path} exists already; choose another name or move it away")
    key = Ed25519PrivateKey.generate()
    encryption: ser.KeySerializationEncryption = (
        ser.BestAvailableEncryption(password) if password else ser.NoEncryption()
    )
    _create(private_path, key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, encryption))
    _create(public_path, public_pem(key.public_key()), mode=0o644)
    return key_id(key.public_key())


def _create(path: Path, data: bytes, mode: int = 0o600) -> None:
    # Created with its final mode: the private key is never readable by others, not even
    # for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise InvalidValue(f"cannot read key file {path}: {e.strerror}") from None


def load_private_key(path: Path, password: bytes | None = None) -> Ed25519PrivateKey:
    try:
        key = ser.load_pem_private_key(_read(path), password)
    except TypeError:  # a passphrase given for a plain key, or none for an encrypted one
        fix = (
            "is not encrypted: give no passphrase"
            if password
            else "is encrypted: give its passphrase"
        )
        raise InvalidValue(f"private key {path} {fix}") from None
    except ValueError:
        raise InvalidValue(
            f"{path} is not a PEM private key, or the passphrase is wrong "
            "(make a key pair with `hashguard feed keygen`)"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidValue(f"{path} is not an Ed25519 key; feeds are signed with Ed25519 keys")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    data = _read(path)
    if b"PRIVATE KEY" in data:
        raise InvalidValue(f"{path} is a private key: subscribers need the public (.pub) file")
    try:
        key = ser.load_pem_public_key(data)
    except ValueError:
        raise InvalidValue(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidValue(f"{path} is not an Ed25519 key; feeds are signed with Ed25519 keys")
    return key
