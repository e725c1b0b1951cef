"""Kept content: sealed with AES-256-GCM under keys from a file, bound to its item, rotated
by `hashguard kept rekey`, purged at its end; and the keys file's errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hashguard.errors import ConfigError
from hashguard.review.sealing import KeyRing, Unsealable, new_key_line
from hashguard.store.store import Store
from tests.helpers import run_cli

IMAGE = "pdq/bridge-mods/aaa-orig.jpg"


def _keys(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def test_sealed_content_opens_only_as_itself(store: Store, testdata: Path) -> None:
    ring = KeyRing.parse(new_key_line("k1"), "test")
    data = (testdata / IMAGE).read_bytes()
    now = time.time()
    assert store.kept.put(ring, "id:a", "image", data, now=now, days=1)
    assert not store.kept.put(ring, "id:a", "image", data, now=now, days=1)  # kept already
    kept = store.kept.get(ring, "id:a", now=now)
    assert kept is not None and kept.data == data
    # Nothing of the content is in the row in clear.
    from sqlalchemy import select

    from hashguard.store import tables as t

    with store.engine.connect() as conn:
        sealed = bytes(conn.execute(select(t.kept.c.sealed)).scalar_one())
    assert data[:64] not in sealed and len(sealed) == len(data) + 12 + 16
    # Moved onto another item's row, it does not open.
    from sqlalchemy import update

    with store.engine.begin() as conn:
        conn.execute(update(t.kept).values(content_key="id:b"))
    with pytest.raises(Unsealable, match="damaged"):
        store.kept.get(ring, "id:b", now=now)
    # Another key opens nothing.
    with pytest.raises(Unsealable, match="no longer configured"):
        store.kept.get(KeyRing.parse(new_key_line("k2"), "test"), "id:b", now=now)


def test_kept_content_ends_at_its_retention(store: Store, testdata: Path) -> None:
    ring = KeyRing.parse(new_key_line(), "test")
    now = time.time()
    store.kept.put(ring, "id:a", "image", b"x" * 100, now=now, days=2)
    assert store.kept.get(ring, "id:a", now=now + 86400) is not None
    assert store.kept.get(ring, "id:a", now=now + 2 * 86400 + 1) is None  # past: not shown
    assert store.kept.purge(now + 86400) == 0
    assert store.kept.purge(now + 2 * 86400 + 1) == 1


def test_rotation_reseals_with_the_newest_key(tmp_path: Path, testdata: Path) -> None:
    old, new = new_key_line("old"), new_key_line("new")
    db = f"sqlite:///{tmp_path / 'hg.db'}"
    store = Store(db)
    store.kept.put(
        KeyRing.parse(old, "t"), "id:a", "image", b"secret bytes", now=time.time(), days=30
    )
    keys = _keys(tmp_path / "keys", new, old)  # the new key on top; the old still opens
    os.environ["HASHGUARD_REVIEW_KEYS_FILE"] = str(keys)
    try:
        code, out, err = run_cli(tmp_path, "kept", "rekey", db=db)
    finally:
        del os.environ["HASHGUARD_REVIEW_KEYS_FILE"]
    assert code == 0, err
    assert out == [{"resealed": 1, "key": "new"}]
    kept = store.kept.get(KeyRing.parse(new, "t"), "id:a", now=time.time())  # new key alone
    assert kept is not None and kept.data == b"secret bytes"
    store.close()


def test_keygen_prints_a_line_the_ring_reads() -> None:
    def keygen(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "hashguard.cli", "kept", "keygen", *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    assert KeyRing.parse(keygen("--id", "2026-12"), "t").current == "2026-12"
    one, two = keygen(), keygen()
    assert KeyRing.parse(f"{one}\n{two}", "t").current == one.split(":")[0] != two.split(":")[0]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "holds no key"),
        ("k1", "expected ID:KEY"),
        ("k1:not-base64!!", "expected ID:KEY"),
        ("k1:" + "A" * 10, "expected ID:KEY"),  # too short
        ("bad id:" + new_key_line().split(":")[1], "expected ID:KEY"),
        (new_key_line("k1") + "\n" + new_key_line("k1"), "there twice"),
    ],
)
def test_a_bad_keys_file_is_refused_with_its_line(text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        KeyRing.parse(text, "keys")


def test_a_keys_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(new_key_line() + "\n")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        KeyRing.load(path)
    with pytest.raises(ConfigError, match="cannot read"):
        KeyRing.load(tmp_path / "missing")
