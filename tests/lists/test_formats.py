"""Reading list files: every bad row is reported with its line number."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hashguard.errors import RowError
from hashguard.lists import formats
from hashguard.lists.csv_format import _row_parser
from hashguard.lists.formats import UnknownFormat, format_for
from hashguard.lists.rows import ListRow, parse_row
from hashguard.signals.registry import default_registry

MD5 = "0123456789abcdef0123456789abcdef"
PDQ = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"


def read(data: bytes, fmt: str = "csv") -> tuple[list[ListRow], list[RowError]]:
    errors: list[RowError] = []
    rows = list(formats.get(fmt).read(io.BytesIO(data), default_registry(), errors))
    return rows, errors


def test_csv_rows_are_canonical_and_keep_extra_columns() -> None:
    rows, errors = read(
        f"Signal_Type,signal,id,category,severity,note,source_url\n"
        f"MD5,{MD5.upper()},x1,A,high,first,https://example.org/1\n"
        f"pdq,{PDQ},,B,,,\n".encode()
    )
    assert errors == []
    assert rows[0].signal_type == "md5" and rows[0].value == MD5 and rows[0].key == "x1"
    assert rows[0].extra == json.dumps({"source_url": "https://example.org/1"})
    assert rows[1].key == f"pdq:{PDQ}" and rows[1].extra is None and rows[1].line == 3


def test_every_bad_row_is_reported_with_its_line() -> None:
    data = (
        "signal_type,signal,id,action\n"
        f"md5,{MD5},a,add\n"
        "md5,1234,b,add\n"
        "\n"
        "sha512,00,c,add\n"
        f"md5,{MD5},d,delete\n"
        f"md5,{MD5},e\n"
        ",,f,add\n"
        f"md5,{MD5},g,add\n"
    ).encode()
    rows, errors = read(data)
    assert [r.key for r in rows] == ["a", "g"]
    assert [(e.line, e.message) for e in errors] == [
        (3, "md5 must be 32 hex digits, got 4 characters"),
        (
            5,
            "unknown signal type 'sha512' (known: keyword, md5, pdq, photodna, sha1, sha256, "
            "url, url_sha256, vpdq)",
        ),
        (6, "action must be 'add' or 'retract', not 'delete'"),
        (7, "expected 4 columns, got 3"),
        (8, "signal_type is empty"),
    ]


def test_retraction_by_id_needs_no_signal() -> None:
    rows, errors = read(b"signal_type,signal,id,action\n,,x9,retract\n")
    assert errors == [] and rows[0].action == "retract" and rows[0].signal_type is None


def test_missing_header_columns_and_empty_file() -> None:
    assert read(b"hash,id\nabc,1\n")[1][0].message.startswith(
        "header lacks required column(s) signal_type, signal"
    )
    assert read(b"")[1] == [RowError(1, "empty file: expected a header row")]


def test_wrong_encoding_is_reported_by_line() -> None:
    latin1 = f"signal_type,signal,id,note\nmd5,{MD5},a,caf\xe9\n".encode("latin-1")
    _, errors = read(latin1)
    assert errors == [RowError(2, "not valid UTF-8 at byte 42; save the file as UTF-8")]
    utf16 = f"signal_type,signal\nmd5,{MD5}\n".encode("utf-16")
    assert read(utf16)[1] == [RowError(1, "file is UTF-16; save it as UTF-8 and import again")]
    bom = b"\xef\xbb\xbf" + f"signal_type,signal\nmd5,{MD5}\n".encode()
    assert read(bom) == ([ListRow(2, "add", None, "md5", MD5)], [])


def test_jsonl() -> None:
    data = (
        json.dumps({"signal_type": "md5", "signal": MD5, "id": "a", "tags": ["x"]}) + "\n"
        + "{not json\n"
        + "[1, 2]\n"
        + json.dumps({"signal_type": "pdq", "signal": PDQ, "quality": 30}) + "\n"
    ).encode()  # fmt: skip
    rows, errors = read(data, "jsonl")
    assert [r.line for r in rows] == [1, 4]
    assert rows[0].extra == json.dumps({"tags": ["x"]})
    assert rows[1].quality == 30
    assert [e.line for e in errors] == [2, 3]
    assert errors[1].message == "expected a JSON object"


def test_format_is_taken_from_the_suffix_or_named() -> None:
    assert format_for("list.CSV") == "csv"
    assert format_for("list.ndjson") == "jsonl"
    assert format_for("list.txt", "csv") == "csv"
    with pytest.raises(UnknownFormat, match="--format"):
        format_for("list.xlsx")


cells_strategy = st.tuples(
    st.sampled_from(["md5", "pdq", "MD5", " md5", "photodna", "sha512", ""]),
    st.sampled_from(
        [MD5, MD5.upper(), f" {MD5}", MD5[:28] + "  cd", "g" * 32, PDQ, "00" * 144, ""]
    ),
    st.sampled_from(["", "add", "ADD", "retract", " retract", "delete"]),
    st.sampled_from(["", "x1", " x1 ", "   ", "i" * 4097]),
    st.sampled_from(["", "A", " B", "c" * 4097]),
    st.sampled_from(["", "0", "100", " 7", "101", "-1", "x"]),
    st.sampled_from(["", "https://example.org/1", "u" * 4090]),
)


@given(cells=cells_strategy, drop=st.sets(st.sampled_from(["action", "id", "quality", "url"])))
def test_csv_fast_path_agrees_with_parse_row(cells: tuple[str, ...], drop: set[str]) -> None:
    header = ["signal_type", "signal", "action", "id", "category", "quality", "url"]
    kept = [(h, c) for h, c in zip(header, cells, strict=True) if h not in drop]
    names, values = [h for h, _ in kept], [c for _, c in kept]
    registry = default_registry()
    fast = _row_parser(names, registry)(list(values), 7)
    assert fast == parse_row(dict(kept), 7, registry)
