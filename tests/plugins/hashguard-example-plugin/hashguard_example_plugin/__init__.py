"""An example hashguard plugin (tests/plugins): a signal type hashed from any content's bytes
(CRC-32, 8 hex digits: a toy, never a real hash list's type) and a tab-separated list format.
It imports only hashguard's public interfaces."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from hashguard.errors import RowError
from hashguard.lists.formats import ListFormat
from hashguard.lists.rows import ListRow, parse_row
from hashguard.signals.base import Hashed, HashOptions, HexDigestType, Media
from hashguard.signals.registry import Registry


class Crc32(HexDigestType):
    name = "crc32"
    nbytes = 4
    hashes = "bytes"

    def hash(self, media: Media, options: HashOptions) -> Hashed | None:
        return Hashed(self.name, f"{zlib.crc32(media.data):08x}")


class Tsv(ListFormat):
    """``signal_type<TAB>signal<TAB>id`` lines; ``#`` starts a comment."""

    name = "tsv"
    suffixes = (".tsv",)
    media_types = ("text/tab-separated-values",)

    def read(
        self, raw: Iterable[bytes], registry: Registry, errors: list[RowError]
    ) -> Iterator[ListRow]:
        for line, data in enumerate(raw, start=1):
            text = data.decode("utf-8", "replace").rstrip("\r\n")
            if not text or text.startswith("#"):
                continue
            cells = text.split("\t")
            if len(cells) != 3:
                errors.append(RowError(line, f"expected 3 tab-separated cells, got {len(cells)}"))
                continue
            row = parse_row(
                {"signal_type": cells[0], "signal": cells[1], "id": cells[2]}, line, registry
            )
            if isinstance(row, RowError):
                errors.append(row)
            else:
                yield row

    def write(
        self, rows: Callable[[], Iterable[dict[str, Any]]], out: IO[str], *,
        spreadsheet_safe: bool = False,
    ) -> None:  # fmt: skip
        for row in rows():
            out.write(f"{row['signal_type']}\t{row['signal']}\t{row['id']}\n")
