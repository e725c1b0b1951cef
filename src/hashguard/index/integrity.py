"""Telling a whole snapshot from a damaged one: file digests, and a record of the last check.

Every file of a snapshot has its size and SHA-256 in the manifest, and the manifest a
SHA-256 of itself. Hashing every byte (1.4 GB at 10M PDQ hashes) at every start of every
worker would undo what memory-mapping buys, so a process that has checked the digests (or
the writer, which made them) records each file's size, inode, mtime and ctime, as they were
before it hashed, in ``verified.json``. A later load whose files still have exactly those
skips the hashing: any write to a file through the file system, in place or cutting it
short, sets its ctime (which no user-space call can set back), so it is hashed again.

The file system's clock ticks coarsely (milliseconds; seconds on some), so a write in the
same tick as the check could leave the ctime unchanged. As git does with its index, a
record is trusted only for files whose ctime is older than the record itself (the stamp
file's own ctime); one made in the same tick is hashed again next time.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from hashguard.errors import SnapshotDamaged

STAMP = "verified.json"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, hashed through a memory map (no copy; hashlib lets go of the GIL)."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return hashlib.sha256(b"").hexdigest()
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return hashlib.sha256(mapped).hexdigest()


def json_sha256(body: dict[str, Any]) -> str:
    """SHA-256 of a JSON object in one canonical spelling (sorted keys, no spaces)."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _identity(path: Path) -> list[int]:
    st = os.stat(path)
    return [st.st_size, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns]


def check_sizes(directory: Path, files: dict[str, dict[str, Any]]) -> None:
    """Every listed file is there with the size it was written with (no hashing)."""
    for name, info in files.items():
        try:
            size = os.stat(directory / name).st_size
        except OSError as e:
            raise SnapshotDamaged(f"{name}: {e.strerror or e}") from None
        if size != info["bytes"]:
            raise SnapshotDamaged(f"{name}: {size} bytes, the manifest says {info['bytes']}")


def digests(directory: Path, names: Iterable[str]) -> dict[str, str]:
    """SHA-256 of each file, several at once: hashlib hashes without the GIL, and a PDQ
    snapshot is three large files (tables, order, hashes) of similar size."""
    names = list(names)
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return dict(zip(names, pool.map(lambda n: file_sha256(directory / n), names), strict=True))


def check_digests(directory: Path, files: dict[str, dict[str, Any]]) -> None:
    found = digests(directory, files)
    for name, info in files.items():
        if found[name] != info["sha256"]:
            raise SnapshotDamaged(f"{name}: its content is not what was written (SHA-256 differs)")


def identities(directory: Path, files: dict[str, dict[str, Any]]) -> dict[str, list[int]]:
    """What the stamp records of each file: taken before hashing, so a write during the
    hashing shows as a change next time."""
    return {name: _identity(directory / name) for name in files}


def stamped(directory: Path, manifest_sha: str, files: dict[str, dict[str, Any]]) -> bool:
    """Whether the files are, to the inode and ctime, those last found whole (and were
    already so a clock tick before that)."""
    try:
        path = directory / STAMP
        made = os.stat(path).st_ctime_ns
        record = json.loads(path.read_text())
        if record.get("manifest") != manifest_sha or set(record["files"]) != set(files):
            return False
        for name in files:
            found = _identity(directory / name)
            if record["files"][name] != found or found[4] >= made:
                return False
        return True
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def stamp(directory: Path, manifest_sha: str, found: dict[str, list[int]]) -> None:
    """Record the files (``found``: their :func:`identities`) as whole; a directory this
    process cannot write to is left as it is (the next load hashes again)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".verified-", dir=directory)
        with os.fdopen(fd, "w") as f:
            json.dump({"manifest": manifest_sha, "files": found}, f)
        os.replace(tmp, directory / STAMP)
    except OSError:
        pass
