"""CSV lists: a header row, then one signal per row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import IO

from hashguard.errors import RowError
from hashguard.lists.encoding import utf8_lines
from hashguard.lists.rows import KNOWN, REQUIRED, ListRow, parse_row
from hashguard.signals.registry import Registry

csv.field_size_limit(1 << 20)


def read_csv(raw: Iterable[bytes], registry: Registry, errors: list[RowError]) -> Iterator[ListRow]:
    """Good rows are yielded; bad ones are appended to ``errors`` with their line numbers."""
    reader = csv.reader(utf8_lines(raw, errors))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        if not errors:  # an unreadable file has said why already
            errors.append(RowError(1, "empty file: expected a header row"))
        return
    except csv.Error as e:
        errors.append(RowError(1, f"bad CSV header: {e}"))
        return
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        errors.append(
            RowError(1, f"header lacks required column(s) {', '.join(missing)}; got {header}")
        )
        return
    width = len(header)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            errors.append(RowError(reader.line_num, f"bad CSV: {e}"))
            continue
        line = reader.line_num
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # blank line
        if len(cells) != width:
            errors.append(RowError(line, f"expected {width} columns, got {len(cells)}"))
            continue
        result = parse_row(dict(zip(header, cells, strict=True)), line, registry)
        if isinstance(result, RowError):
            errors.append(result)
        else:
            yield result


def write_csv(rows: Iterable[dict[str, str]], out: IO[str], extra_columns: list[str]) -> None:
    columns = [c for c in KNOWN if c != "quality"] + ["quality", *extra_columns]
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)


def csv_text(rows: Iterable[dict[str, str]], extra_columns: list[str]) -> str:
    buf = io.StringIO()
    write_csv(rows, buf, extra_columns)
    return buf.getvalue()
