"""The files hashguard makes for a store are owner-only: the SQLite file (and its -wal and
-shm), the folders made for it, and the working folder downloads go to, which is cleaned of
what a crashed process left there."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hashguard.signals.registry import default_registry
from hashguard.sources.runner import sync_source
from hashguard.store.store import Store
from hashguard.store.workdir import clean_stale, private_workspace, work_dir
from tests.helpers import import_text

MD5 = "0123456789abcdef0123456789abcdef"


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_sqlite_store_is_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "new" / "deeper" / "hg.db"
    old_umask = os.umask(0o022)  # the usual umask, which leaves new files world-readable
    store = Store(f"sqlite:///{db}")
    try:
        store.create_bank("iwf")
        import_text(store, "iwf", f"signal_type,signal\nmd5,{MD5}\n")
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            assert mode(path) == 0o600, path
        assert mode(db.parent) == 0o700 and mode(db.parent.parent) == 0o700
    finally:
        store.close()
        os.umask(old_umask)


def test_work_dir_is_beside_a_sqlite_file_and_per_database_otherwise(tmp_path: Path) -> None:
    assert work_dir(f"sqlite:///{tmp_path / 'hg.db'}") == tmp_path / "hg.work"
    a = work_dir("postgresql://u:secret@db1/hg")
    assert a != work_dir("postgresql://u:secret@db2/hg") and "secret" not in str(a)


_CRASH = """
import sys, time
from pathlib import Path
from hashguard.store.workdir import private_workspace
with private_workspace(Path(sys.argv[1]), "feed-") as folder:
    (folder / "list.jsonl").write_text("secret rows")
    print(folder, flush=True)
    time.sleep(60)
"""


def test_a_crashed_process_leaves_nothing_for_long(tmp_path: Path) -> None:
    root = tmp_path / "hg.work"
    proc = subprocess.Popen(
        [sys.executable, "-c", _CRASH, str(root)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    folder = Path(proc.stdout.readline().strip())
    assert (folder / "list.jsonl").exists() and mode(folder) == 0o700 and mode(root) == 0o700
    # while it lives, its folder is its own, however old
    os.utime(folder / ".lock", (time.time() - 3600,) * 2)
    assert clean_stale(root) == [] and folder.exists()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert folder.exists()  # what a crash leaves...
    with private_workspace(root, "feed-") as mine:  # ...the next one to start removes
        assert not folder.exists() and mine.exists()
    assert not mine.exists()


def test_a_just_made_folder_is_not_taken_for_stale(tmp_path: Path) -> None:
    root = tmp_path / "w"
    (root / "feed-new").mkdir(parents=True)  # made, its lock not yet taken
    (root / "feed-new" / ".lock").touch()
    assert clean_stale(root) == []
    os.utime(root / "feed-new" / ".lock", (time.time() - 3600,) * 2)
    assert clean_stale(root) == [root / "feed-new"]


def test_feed_downloads_go_to_the_work_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.sources.test_sources import cli, follow, publish

    db = f"sqlite:///{tmp_path / 'publisher.db'}"
    Store(db).create_bank("hotline")
    key, pub = tmp_path / "feed.key", tmp_path / "feed.pub"
    assert (
        cli(db, "feed", "keygen", "--private-key", key, "--public-key", pub, capsys=capsys)[0] == 0
    )
    up = Store(db)
    import_text(up, "hotline", f"signal_type,signal,id\nmd5,{MD5},h1\n")
    publish(db, key, tmp_path / "feed", capsys)
    store = Store(f"sqlite:///{tmp_path / 'sub' / 'hg.db'}")
    try:
        assert follow(store, tmp_path / "feed", pub, capsys)[0] == 0
        seen: list[list[tuple[Path, int]]] = []
        # runs after each committed batch, while the downloaded files are still there
        store.after_write(
            lambda: seen.append([(p, mode(p.parent)) for p in store.work_dir.rglob("*.jsonl")])
        )
        outcome = sync_source(store, store.sources.get("iwf"), default_registry())
        assert outcome.status == "ok", outcome
        assert seen and seen[0], "the feed file was not downloaded beside the store"
        assert all(folder_mode == 0o700 for _, folder_mode in seen[0])
        assert list(store.work_dir.iterdir()) == []  # and removed after
    finally:
        store.close()
