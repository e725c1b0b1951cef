# ruff: noqa: F811
"""`hashguard export` writes all or nothing, and can write CSV safe for spreadsheets;
`match --signals` reports a line that is not UTF-8 and matches the others."""

from __future__ import annotations

import csv
import json
import os
import stat
from pathlib import Path

from tests.test_cli import run  # noqa: F401  (the fixture, which the tests take by name)

MD5 = "0123456789abcdef0123456789abcdef"
MD5B = "fedcba9876543210fedcba9876543210"
HOSTILE = {"id": "+1", "category": "=1+2", "note": "@SUM(A1)", "severity": "-3"}


def _listed(tmp_path: Path) -> Path:
    listing = tmp_path / "list.jsonl"
    rows = [
        {"signal_type": "md5", "signal": MD5, **HOSTILE, "tags": ["x", "y"]},
        {"signal_type": "md5", "signal": MD5B, "id": "plain", "note": "a - b"},
    ]
    listing.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return listing


def test_export_to_a_file_with_a_misspelt_bank_leaves_the_file(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "iwf.csv"
    out.write_text("yesterday's export\n")
    code, _, err = run("export", "--bank", "iwff", "-o", str(out))
    assert code == 5 and "no bank named 'iwff'" in err
    assert out.read_text() == "yesterday's export\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    run("bank", "create", "iwf")
    run("import", str(_listed(tmp_path)), "--bank", "iwf")
    assert run("export", "--bank", "iwf", "-o", str(out))[0] == 0
    assert out.read_text().startswith("signal_type,signal,")
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600  # lists are secret
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_default_csv_export_is_lossless_and_the_safe_one_defuses_formulas(
    run,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    run("bank", "create", "iwf")
    assert run("import", str(_listed(tmp_path)), "--bank", "iwf")[0] == 0
    plain, safe = tmp_path / "plain.csv", tmp_path / "safe.csv"
    assert run("export", "--bank", "iwf", "-o", str(plain))[0] == 0
    assert run("export", "--bank", "iwf", "--spreadsheet-safe", "-o", str(safe))[0] == 0
    by_id = {r["id"]: r for r in csv.DictReader(plain.open())}
    assert {k: by_id["+1"][k] for k in HOSTILE} == HOSTILE  # verbatim
    assert json.loads(by_id["+1"]["tags"]) == ["x", "y"]  # JSON, not Python's repr
    safe_rows = {r["note"]: r for r in csv.DictReader(safe.open())}
    hostile = safe_rows["'@SUM(A1)"]
    assert {k: hostile[k] for k in HOSTILE} == {k: "'" + v for k, v in HOSTILE.items()}
    assert safe_rows["a - b"]["id"] == "plain" and hostile["signal"] == MD5
    # the lossless export imports back to the same bank
    run("bank", "create", "copy")
    assert run("import", str(plain), "--bank", "copy")[0] == 0
    again = tmp_path / "again.csv"
    run("export", "--bank", "copy", "-o", str(again))
    assert again.read_text() == plain.read_text()
    code, _, err = run("export", "--bank", "iwf", "--format", "jsonl", "--spreadsheet-safe")
    assert code == 2 and "--spreadsheet-safe" in err


def test_match_signals_reports_a_line_that_is_not_utf8(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("bank", "create", "iwf")
    run("import", str(_listed(tmp_path)), "--bank", "iwf")
    signals = tmp_path / "signals.txt"
    signals.write_bytes(f"md5 {MD5}\nkeyword caf\xe9\nmd5 {MD5B}\n".encode("latin-1"))
    code, lines, err = run("match", "--signals", str(signals))
    assert code == 3 and "Traceback" not in err
    assert lines[0]["line"] == 1 and lines[0]["matches"][0]["entry"] == "+1"
    assert lines[1] == {"line": 2, "error": "not valid UTF-8 at byte 11"}
    assert lines[2]["line"] == 3 and lines[2]["matches"][0]["entry"] == "plain"
    code, lines, _ = run("match", "--signals", "-", stdin=f"md5 {MD5}\n")
    assert code == 0 and lines[0]["matches"][0]["entry"] == "+1"
