"""Owner-only working space beside the store, for files as sensitive as the lists it holds
(a downloaded feed, say), and the cleaning up of what a crashed process left there.

Each user of the space gets a folder of its own, holding an ``flock`` on the folder's lock
file while it works: a folder whose lock can be taken belongs to no live process and is
removed by the next process that starts work. The kernel drops the lock of a process that
dies, so no pid file can go stale.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy.engine import make_url

DIR_MODE = 0o700
_LOCK = ".lock"
_GRACE = 60.0  # seconds a new folder is left alone, its maker yet to lock it


def make_private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents as owner-only folders (existing ones are
    left as they are)."""
    missing = []
    for folder in (path, *path.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        with suppress(FileExistsError):
            folder.mkdir(mode=DIR_MODE)


def work_dir(db_url: str) -> Path:
    """``<file>.work/`` beside a SQLite file; for PostgreSQL (or an in-memory database) a
    folder of the user's cache named for the database."""
    url = make_url(db_url)
    if url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).expanduser().with_suffix(".work")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    name = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return cache / "hashguard" / "work" / name


def clean_stale(root: Path) -> list[Path]:
    """Remove the folders under ``root`` that no live process holds; returns them."""
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        try:
            fd = os.open(folder / _LOCK, os.O_RDWR)
        except FileNotFoundError:
            if time.time() - folder.stat().st_mtime > _GRACE:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live process works there
        else:
            # Not one just made, whose maker has yet to take its lock.
            if time.time() - os.fstat(fd).st_mtime > _GRACE:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        finally:
            os.close(fd)
    return removed


@contextmanager
def private_workspace(root: Path, prefix: str) -> Iterator[Path]:
    """A fresh owner-only folder under ``root`` (made owner-only too), removed on exit;
    stale folders of crashed processes are removed first."""
    make_private_dir(root)
    clean_stale(root)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=root))  # mode 0700
    fd = os.open(folder / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)
