"""Reading content files safely: regular files only, never more than the limit."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from hashguard.errors import MediaError, TooLarge
from hashguard.media.image import DecodeLimits

_KINDS = (
    (stat.S_ISDIR, "is a directory"),
    (stat.S_ISCHR, "not a regular file (a character device)"),
    (stat.S_ISBLK, "not a regular file (a block device)"),
    (stat.S_ISFIFO, "not a regular file (a FIFO)"),
    (stat.S_ISSOCK, "not a regular file (a socket)"),
)


def _check_mode(mode: int) -> None:
    if not stat.S_ISREG(mode):
        why = next((text for test, text in _KINDS if test(mode)), "not a regular file")
        raise MediaError(f"{why}: hashguard reads regular files only")


def read_file(path: Path, limits: DecodeLimits) -> bytes:
    """The bytes of a regular file, no more than ``limits.max_bytes`` of them ever read. A
    device, FIFO or socket is refused unread (``/dev/zero`` never ends; a FIFO blocks)."""
    try:
        _check_mode(os.stat(path).st_mode)
        # O_NONBLOCK: should a FIFO have replaced the file since, opening it does not wait.
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
            st = os.fstat(f.fileno())
            _check_mode(st.st_mode)
            if st.st_size > limits.max_bytes:
                raise TooLarge(f"file is {st.st_size} bytes; the limit is {limits.max_bytes}")
            want = st.st_size + 1
            data = f.read(want)
            if len(data) == want:  # it grew since: read on, to one byte over the limit
                data += f.read(limits.max_bytes + 1 - len(data))
            if len(data) > limits.max_bytes:
                raise TooLarge(f"file is over the limit of {limits.max_bytes} bytes")
            return data
    except OSError as e:
        raise _unreadable(e) from None


def check_regular(path: Path) -> None:
    """Refuse what is not a regular file (a directory, a device, a FIFO) or not there."""
    try:
        _check_mode(os.stat(path).st_mode)
    except OSError as e:
        raise _unreadable(e) from None


def _unreadable(e: OSError) -> MediaError:
    if isinstance(e, FileNotFoundError):
        return MediaError("no such file")
    if isinstance(e, IsADirectoryError):
        return MediaError("is a directory")
    if isinstance(e, PermissionError):
        return MediaError("permission denied")
    return MediaError(f"cannot read: {e.strerror}")
