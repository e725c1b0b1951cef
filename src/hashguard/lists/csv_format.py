"""CSV lists: a header row, then one signal per row."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from hashguard.errors import RowError
from hashguard.lists.encoding import utf8_lines
from hashguard.lists.formats import ListFormat
from hashguard.lists.rows import KNOWN, MAX_FIELD, REQUIRED, ListRow, parse_row
from hashguard.signals.base import HexDigestType
from hashguard.signals.registry import Registry

csv.field_size_limit(1 << 20)

Parsed = ListRow | RowError


def read_csv(raw: Iterable[bytes], registry: Registry, errors: list[RowError]) -> Iterator[ListRow]:
    """Good rows are yielded; bad ones are appended to ``errors`` with their line numbers."""
    # strict: a quote left open at the end of the file is an error, not a field to the end
    reader = csv.reader(utf8_lines(raw, errors), strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        if not errors:  # an unreadable file has said why already
            errors.append(RowError(1, "empty file: expected a header row"))
        return
    except csv.Error as e:
        errors.append(RowError(1, f"bad CSV header: {_csv_problem(e)}"))
        return
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        got = ", ".join(header)[:200]
        errors.append(
            RowError(1, f"header lacks required column(s) {', '.join(missing)}; got: {got}")
        )
        return
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        errors.append(RowError(1, f"header names column(s) {', '.join(repeated)} twice"))
        return
    width = len(header)
    parse = _row_parser(header, registry)
    while True:
        try:
            for cells in reader:
                if len(cells) != width:
                    if cells and (len(cells) > 1 or cells[0].strip()):
                        errors.append(
                            RowError(reader.line_num, f"expected {width} columns, got {len(cells)}")
                        )
                    continue  # else a blank line
                result = parse(cells, reader.line_num)
                if isinstance(result, RowError):
                    errors.append(result)
                else:
                    yield result
            return
        except csv.Error as e:
            errors.append(RowError(reader.line_num, f"bad CSV: {_csv_problem(e)}"))


def _csv_problem(e: csv.Error) -> str:
    """The csv module's complaint in the words of the file's author."""
    text = str(e)
    if "unexpected end of data" in text:
        return 'a quoted field is never closed (a " missing before the end of the file)'
    if "expected after" in text:
        return 'a closing " must be followed by a comma or the end of the line'
    return text


def _row_parser(header: list[str], registry: Registry) -> Callable[[list[str], int], Parsed]:
    """:func:`parse_row` for the cells of one CSV row, with a fast path for the usual row.

    A list has millions of rows that are nearly all alike: an addition, a known hex type in
    canonical spelling, short fields. Those are checked here without building a dict per row;
    anything else (and every error message) is left to ``parse_row``, so both agree.
    """
    width = len(header)
    col = {name: i for i, name in enumerate(header)}  # names are not repeated (checked)
    i_type, i_signal = col["signal_type"], col["signal"]
    # A missing optional column reads the empty cell appended to every row.
    i_action, i_id, i_category, i_severity, i_note, i_quality = (
        col.get(name, width) for name in ("action", "id", "category", "severity", "note", "quality")
    )
    extras = [(name, i) for name, i in col.items() if name not in KNOWN]
    hex_bytes = {}  # canonical type name -> digest length, for types that parse plain hex
    for name in registry.names():
        signal_type = registry.get(name)
        if (
            isinstance(signal_type, HexDigestType)
            and type(signal_type).parse is HexDigestType.parse
        ):
            hex_bytes[name] = signal_type.nbytes

    def slow(cells: list[str], line: int) -> Parsed:
        # utf8_lines removed NUL bytes (recording the error) and decoding makes no surrogates
        record = dict(zip(header, cells[:width], strict=True))
        return parse_row(record, line, registry, text_checked=True)

    def parse(cells: list[str], line: int) -> Parsed:
        cells.append("")
        type_name, raw = cells[i_type], cells[i_signal]
        nbytes = hex_bytes.get(type_name, -1)
        if (
            len(raw) != 2 * nbytes
            or cells[i_action] not in ("", "add")
            or max(map(len, cells)) > MAX_FIELD
        ):
            return slow(cells, line)
        try:
            if len(bytes.fromhex(raw)) != nbytes:  # fewer if there were spaces
                return slow(cells, line)
            quality_text = cells[i_quality].strip()
            if quality_text and not quality_text.isdigit():
                return slow(cells, line)
            quality = int(quality_text) if quality_text else None
        except ValueError:
            return slow(cells, line)
        if quality is not None and not 0 <= quality <= 100:
            return slow(cells, line)
        extra = None
        if extras:
            others = {name: cells[i] for name, i in extras if cells[i] != ""}
            extra = json.dumps(others, sort_keys=True) if others else None
            if extra is not None and len(extra) > MAX_FIELD:
                return slow(cells, line)
        return ListRow(
            line, "add", cells[i_id].strip() or None, type_name, raw.lower(),
            cells[i_category].strip() or None, cells[i_severity].strip() or None,
            cells[i_note].strip() or None, quality, extra,
        )  # fmt: skip

    return parse


# Cells a spreadsheet would take for a formula (OWASP's CSV injection list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write_csv(
    rows: Iterable[dict[str, Any]], out: IO[str], extra_columns: list[str], *,
    spreadsheet_safe: bool = False,
) -> None:  # fmt: skip
    """The list as CSV, every value as stored: importing it gives the same bank back.

    ``spreadsheet_safe`` puts ``'`` before each text cell a spreadsheet would run as a
    formula, for opening in one; such a file no longer round-trips (the ``'`` stays)."""
    columns = [c for c in KNOWN if c != "quality"] + ["quality", *extra_columns]
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        if spreadsheet_safe or not all(isinstance(v, str | int) for v in row.values()):
            row = {k: _cell(v, spreadsheet_safe) for k, v in row.items()}
        writer.writerow(row)


def _cell(value: Any, spreadsheet_safe: bool) -> Any:
    if not isinstance(value, str | int) or isinstance(value, bool):
        value = json.dumps(value, ensure_ascii=False)  # a JSON list's metadata, say: not repr
    if spreadsheet_safe and isinstance(value, str):
        return spreadsheet_cell(value)
    return value


def spreadsheet_cell(value: str) -> str:
    """``value``, with ``'`` before it if a spreadsheet would run it as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_text(rows: Iterable[dict[str, str]], extra_columns: list[str]) -> str:
    buf = io.StringIO()
    write_csv(rows, buf, extra_columns)
    return buf.getvalue()


class Csv(ListFormat):
    name = "csv"
    suffixes = (".csv",)
    media_types = ("text/csv",)

    read = staticmethod(read_csv)

    def write(
        self, rows: Callable[[], Iterable[dict[str, Any]]], out: IO[str], *,
        spreadsheet_safe: bool = False,
    ) -> None:  # fmt: skip
        # The header needs every extra column up front: one pass to collect them.
        extra = sorted({k for r in rows() for k in r} - set(KNOWN))
        write_csv(rows(), out, extra, spreadsheet_safe=spreadsheet_safe)
