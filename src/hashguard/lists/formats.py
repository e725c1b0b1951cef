"""List formats: the interface every format implements, the formats installed (through the
``hashguard.list_formats`` entry points, built-ins included), and picking one for a file."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import IO, Any, ClassVar

from hashguard import plugins
from hashguard.errors import ConfigError, InvalidValue, RowError, UnknownFormat
from hashguard.lists.rows import ListRow
from hashguard.signals.registry import Registry

__all__ = ["ListFormat", "UnknownFormat", "format_for", "formats", "get"]


class ListFormat:
    """Reads (and, if it can, writes) one list format."""

    name: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]] = ()  # file name endings that imply it, e.g. ".csv"
    media_types: ClassVar[tuple[str, ...]] = ()  # upload content types that imply it

    def read(
        self, raw: Iterable[bytes], registry: Registry, errors: list[RowError]
    ) -> Iterator[ListRow]:
        """Good rows are yielded; bad ones are appended to ``errors`` with their line
        numbers (a reader never raises for a bad row)."""
        raise NotImplementedError

    def write(
        self, rows: Callable[[], Iterable[dict[str, Any]]], out: IO[str], *,
        spreadsheet_safe: bool = False,
    ) -> None:  # fmt: skip
        """Write a bank's rows (``rows()`` gives them afresh each call, for formats that
        need a first pass) so that reading them back gives the same bank."""
        raise InvalidValue(f"hashguard cannot write {self.name} lists")


@cache
def formats() -> dict[str, ListFormat]:
    """Every installed format, by name."""
    found: dict[str, ListFormat] = {}
    for name, cls in plugins.load(plugins.LIST_FORMATS).items():
        fmt = cls()
        if not isinstance(fmt, ListFormat) or fmt.name != name:
            raise ConfigError(f"list format entry point {name!r} does not make a {name!r} format")
        found[name] = fmt
    return found


def get(name: str) -> ListFormat:
    found = formats()
    if name not in found:
        raise UnknownFormat(f"unknown list format {name!r} (known: {', '.join(found)})")
    return found[name]


def format_for(name: str, explicit: str | None = None, media_type: str | None = None) -> str:
    """The format named, or the one a content type or a file's suffix implies."""
    found = formats()
    fmt = explicit
    if fmt is None and media_type:
        fmt = next((f.name for f in found.values() if media_type in f.media_types), None)
    if fmt is None:
        suffix = Path(name).suffix.lower()
        fmt = next((f.name for f in found.values() if suffix in f.suffixes), None)
    if fmt not in found:
        raise UnknownFormat(
            f"cannot tell the list format of {name!r}: use a "
            f"{' or '.join(f.suffixes[0] for f in found.values() if f.suffixes)} file, "
            f"or say --format ({', '.join(found)})"
        )
    return fmt
