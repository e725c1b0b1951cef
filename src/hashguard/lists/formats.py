"""List formats by name, and picking one from a file name."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from hashguard.errors import InvalidValue, RowError
from hashguard.lists.csv_format import read_csv
from hashguard.lists.jsonl_format import read_jsonl
from hashguard.lists.rows import ListRow
from hashguard.signals.registry import Registry

Reader = Callable[[Iterable[bytes], Registry, list[RowError]], Iterator[ListRow]]

READERS: dict[str, Reader] = {"csv": read_csv, "jsonl": read_jsonl}
_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


class UnknownFormat(InvalidValue):
    pass


def format_for(name: str, explicit: str | None = None) -> str:
    """The format named, or the one a file's suffix implies."""
    fmt = explicit or _SUFFIXES.get(Path(name).suffix.lower())
    if fmt not in READERS:
        raise UnknownFormat(
            f"cannot tell the list format of {name!r}: use a .csv or .jsonl file, "
            f"or say --format ({', '.join(READERS)})"
        )
    return fmt
