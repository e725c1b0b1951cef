"""Reading list files line by line as UTF-8, so an encoding error names its line."""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator

from hashguard.errors import RowError

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def utf8_lines(raw: Iterable[bytes], errors: list[RowError]) -> Iterator[str]:
    """Decode each line; a line that is not UTF-8 is recorded in ``errors`` and replaced."""
    for number, line in enumerate(raw, start=1):
        if number == 1:
            if line.startswith(_UTF16_BOMS):
                errors.append(RowError(1, "file is UTF-16; save it as UTF-8 and import again"))
                return
            line = line.removeprefix(codecs.BOM_UTF8)
        if b"\x00" in line:  # PostgreSQL cannot store it; no list means one
            errors.append(RowError(number, "contains a NUL byte; remove it"))
            line = line.replace(b"\x00", b"")
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as e:
            errors.append(
                RowError(number, f"not valid UTF-8 at byte {e.start}; save the file as UTF-8")
            )
            yield line.decode("utf-8", errors="replace")
