"""Input a list must not get through: text PostgreSQL cannot store (NUL) or that is no text
(lone surrogates), JSON values of the wrong type, repeated keys or columns, a quote left open.
Each is a bad row with its line number, in words a list's author can act on."""

from __future__ import annotations

import io
import json
import re

import pytest

from hashguard.errors import RowError
from hashguard.lists import formats
from hashguard.lists.rows import ListRow
from hashguard.signals.registry import default_registry

MD5 = "0123456789abcdef0123456789abcdef"
GOOD = {"signal_type": "md5", "signal": MD5, "id": "a"}
# What a message must never show: Python's spelling of values, types or exceptions.
INTERNALS = re.compile(r"<class|\[\s*'|Error\b|invalid literal|int\(\)|\bdict\b|\blist\b|None")


def read(data: bytes, fmt: str) -> tuple[list[ListRow], list[RowError]]:
    errors: list[RowError] = []
    rows = list(formats.get(fmt).read(io.BytesIO(data), default_registry(), errors))
    for e in errors:
        assert not INTERNALS.search(e.message), e.message
    return rows, errors


def jsonl(*records: object) -> bytes:
    return "".join(r if isinstance(r, str) else json.dumps(r) + "\n" for r in records).encode()


@pytest.mark.parametrize("field", ["id", "category", "note", "severity", "signal", "source_url"])
def test_nul_in_a_csv_field_is_a_bad_row(field: str) -> None:
    header = "signal_type,signal,id,category,note,severity,source_url"
    values = {"signal_type": "md5", "signal": MD5, "id": "a", "category": "A", "note": "n",
              "severity": "1", "source_url": "u"}  # fmt: skip
    values[field] = values[field][:1] + "\x00" + values[field][1:]
    line = ",".join(values[c] for c in header.split(","))
    _, errors = read(f"{header}\nmd5,{MD5},ok,,,,\n{line}\n".encode(), "csv")
    assert [(e.line, e.message) for e in errors] == [(3, "contains a NUL byte; remove it")]


@pytest.mark.parametrize("field", ["id", "category", "note", "severity", "signal", "source_url"])
@pytest.mark.parametrize(("escape", "problem"), [("\\u0000", "NUL"), ("\\ud800", "surrogate")])
def test_nul_and_lone_surrogates_in_a_json_field_are_bad_rows(
    field: str, escape: str, problem: str
) -> None:
    record = json.dumps({**GOOD, field: "x"}).replace('"x"', f'"x{escape}"')
    rows, errors = read(jsonl(GOOD, record + "\n"), "jsonl")
    assert [r.line for r in rows] == [1]
    assert [e.line for e in errors] == [2] and problem in errors[0].message
    assert field in errors[0].message


def test_surrogates_in_extra_keys_and_nested_values_are_bad_rows() -> None:
    key = json.dumps({**GOOD, "x": 1}).replace('"x"', '"k\\udc00"')
    nested = json.dumps({**GOOD, "tags": ["ok", "bad"]}).replace('"bad"', '"b\\u0000"')
    paired = json.dumps({**GOOD, "note": "\U0001f600"})  # a pair is one character: fine
    rows, errors = read(jsonl(key + "\n", nested + "\n", paired + "\n"), "jsonl")
    assert [e.line for e in errors] == [1, 2] and [r.line for r in rows] == [3]
    assert rows[0].note == "\U0001f600"


@pytest.mark.parametrize(
    ("value", "kind"),
    [(["A", "B"], "an array"), ({"a": 1}, "an object"), (True, "true or false"),
     (1.5, "a number")],
)  # fmt: skip
@pytest.mark.parametrize("field", ["id", "category", "severity", "note", "signal", "action"])
def test_json_values_of_the_wrong_type_are_bad_rows(field: str, value: object, kind: str) -> None:
    rows, errors = read(jsonl({**GOOD, field: value}), "jsonl")
    assert rows == []
    assert [(e.line, e.message) for e in errors] == [(1, f"{field} must be a string, not {kind}")]


def test_json_integers_are_taken_as_their_digits() -> None:
    rows, errors = read(jsonl({**GOOD, "id": 12, "severity": 3, "quality": 80}), "jsonl")
    assert errors == [] and (rows[0].id, rows[0].severity, rows[0].quality) == ("12", "3", 80)


@pytest.mark.parametrize("quality", ["x", "7.5", True, [1]])
def test_a_quality_that_is_no_whole_number_is_a_bad_row(quality: object) -> None:
    for fmt, data in (
        ("jsonl", jsonl({**GOOD, "quality": quality})),
        ("csv", f"signal_type,signal,quality\nmd5,{MD5},{quality}\n".encode()),
    ):
        if fmt == "csv" and not isinstance(quality, str):
            continue
        rows, errors = read(data, fmt)
        assert rows == [] and len(errors) == 1 and "quality must be" in errors[0].message


def test_a_repeated_json_key_is_a_bad_row() -> None:
    rows, errors = read(
        jsonl(GOOD, f'{{"signal_type": "md5", "signal": "{MD5}", "id": "a", "id": "b"}}\n'),
        "jsonl",
    )
    assert [r.line for r in rows] == [1]
    assert [(e.line, e.message) for e in errors] == [(2, "key 'id' appears twice in the object")]


def test_a_repeated_csv_column_is_refused() -> None:
    rows, errors = read(f"signal_type,signal,id,ID\nmd5,{MD5},a,b\n".encode(), "csv")
    assert rows == [] and errors == [RowError(1, "header names column(s) id twice")]


def test_a_quote_left_open_at_the_end_of_a_csv_file_is_a_bad_row() -> None:
    data = f'signal_type,signal,note\nmd5,{MD5},fine\nmd5,{"f" * 32},"never closed\n'.encode()
    rows, errors = read(data, "csv")
    assert [r.line for r in rows] == [2]
    assert len(errors) == 1 and errors[0].line == 3
    assert "never closed" in errors[0].message


def test_a_missing_column_message_lists_the_header_as_text() -> None:
    _, errors = read(b"hash,id\nabc,1\n", "csv")
    assert errors == [
        RowError(1, "header lacks required column(s) signal_type, signal; got: hash, id")
    ]
