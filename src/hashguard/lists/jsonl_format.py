"""JSON Lines lists: one JSON object per line, with the same keys as the CSV columns."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from hashguard.errors import RepeatedKey, RowError
from hashguard.lists.encoding import utf8_lines
from hashguard.lists.formats import ListFormat
from hashguard.lists.rows import ListRow, parse_row
from hashguard.signals.registry import Registry


def read_jsonl(
    raw: Iterable[bytes], registry: Registry, errors: list[RowError]
) -> Iterator[ListRow]:
    for line, text in enumerate(utf8_lines(raw, errors), start=1):
        if not text.strip():
            continue
        # Strings from UTF-8 hold NUL or lone surrogates only through \u escapes.
        escaped = "\\u" in text
        try:
            record = json.loads(text)
            # Each key of the text has a colon after it: as many colons as keys means no
            # key repeated (nor nested objects); otherwise parse again, counting keys.
            if isinstance(record, dict) and text.count(":") != len(record):
                record = json.loads(text, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as e:
            errors.append(RowError(line, f"bad JSON: {e.msg} at column {e.colno}"))
            continue
        except RepeatedKey as e:
            errors.append(RowError(line, f"key {e.key!r} appears twice in the object"))
            continue
        if not isinstance(record, dict):
            errors.append(RowError(line, "expected a JSON object"))
            continue
        result = parse_row(record, line, registry, text_checked=not escaped)
        if isinstance(result, RowError):
            errors.append(result)
        else:
            yield result


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are all different: JSON leaves repeats undefined, and Python
    would silently keep the last."""
    record = dict(pairs)
    if len(record) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise RepeatedKey(key)
            seen.add(key)
    return record


def write_jsonl(rows: Iterable[dict[str, str]], out: IO[str]) -> None:
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")


class Jsonl(ListFormat):
    name = "jsonl"
    suffixes = (".jsonl", ".ndjson", ".json")
    media_types = ("application/x-ndjson", "application/jsonl")

    read = staticmethod(read_jsonl)

    def write(
        self, rows: Callable[[], Iterable[dict[str, Any]]], out: IO[str], *,
        spreadsheet_safe: bool = False,
    ) -> None:  # fmt: skip
        write_jsonl(rows(), out)  # JSON cells are never formulas: nothing to make safe
