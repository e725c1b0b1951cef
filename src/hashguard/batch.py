"""Hashing many files: walking directories, and spreading the work over processes."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from hashguard.content import ContentSignals, hash_content
from hashguard.errors import MediaError, TooLarge
from hashguard.media.image import DecodeLimits


def iter_paths(args: Iterable[str]) -> Iterator[Path]:
    """Files named, files under directories named (sorted, recursive); ``-`` reads paths from
    standard input, one per line."""
    for arg in args:
        if arg == "-":
            yield from iter_paths(line.strip() for line in sys.stdin if line.strip())
            continue
        path = Path(arg)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    yield Path(root) / name
        else:
            yield path


_KINDS = (
    (stat.S_ISDIR, "is a directory"),
    (stat.S_ISCHR, "not a regular file (a character device)"),
    (stat.S_ISBLK, "not a regular file (a block device)"),
    (stat.S_ISFIFO, "not a regular file (a FIFO)"),
    (stat.S_ISSOCK, "not a regular file (a socket)"),
)


def _check_regular(mode: int) -> None:
    if not stat.S_ISREG(mode):
        why = next((text for test, text in _KINDS if test(mode)), "not a regular file")
        raise MediaError(f"{why}: hashguard reads regular files only")


def read_file(path: Path, limits: DecodeLimits) -> bytes:
    """The bytes of a regular file, no more than ``limits.max_bytes`` of them ever read. A
    device, FIFO or socket is refused unread (``/dev/zero`` never ends; a FIFO blocks)."""
    try:
        _check_regular(os.stat(path).st_mode)
        # O_NONBLOCK: should a FIFO have replaced the file since, opening it does not wait.
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
            st = os.fstat(f.fileno())
            _check_regular(st.st_mode)
            if st.st_size > limits.max_bytes:
                raise TooLarge(f"file is {st.st_size} bytes; the limit is {limits.max_bytes}")
            want = st.st_size + 1
            data = f.read(want)
            if len(data) == want:  # it grew since: read on, to one byte over the limit
                data += f.read(limits.max_bytes + 1 - len(data))
            if len(data) > limits.max_bytes:
                raise TooLarge(f"file is over the limit of {limits.max_bytes} bytes")
            return data
    except FileNotFoundError:
        raise MediaError("no such file") from None
    except IsADirectoryError:
        raise MediaError("is a directory") from None
    except PermissionError:
        raise MediaError("permission denied") from None
    except OSError as e:
        raise MediaError(f"cannot read: {e.strerror}") from None


def _hash_path(job: tuple[Path, DecodeLimits, bool]) -> tuple[Path, ContentSignals | str]:
    path, limits, exact = job
    try:
        return path, hash_content(read_file(path, limits), limits, exact_orientations=exact)
    except MediaError as e:
        return path, e.message


def hash_paths(
    paths: Iterable[Path], limits: DecodeLimits, jobs: int = 1, *, exact_orientations: bool = False
) -> Iterator[tuple[Path, ContentSignals | str]]:
    """(path, signals) or (path, error message) for each path, in order."""
    work = ((p, limits, exact_orientations) for p in paths)
    if jobs <= 1:
        yield from map(_hash_path, work)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(_hash_path, work, chunksize=8)
