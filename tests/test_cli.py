"""The `hashguard` command, run in-process on real files and a real store."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hashguard.cli import main
from hashguard.content import hash_content


@pytest.fixture
def run(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HASHGUARD_DB", db_url)
    monkeypatch.setenv("HASHGUARD_INDEX_DIR", str(tmp_path / "idx"))
    monkeypatch.setenv("HASHGUARD_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")

    def _run(*args: str, stdin: str | None = None) -> tuple[int, list[dict], str]:  # type: ignore[type-arg]
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, [json.loads(line) for line in out.splitlines() if line.startswith("{")], err

    return _run


def test_hash_reports_each_file_and_goes_on_after_errors(
    run, testdata: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(testdata / "pdq/bridge-mods/aaa-orig.jpg", folder / "sub" / "a.jpg")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.txt").write_text("hello")
    code, lines, err = run("hash", str(folder))
    assert code == 3 and err == ""
    assert [Path(line["path"]).name for line in lines] == ["empty.jpg", "notes.txt", "a.jpg"]
    assert lines[0]["error"] == "empty file (0 bytes)"
    assert lines[1]["note"].startswith("no perceptual hash: not an image")  # digests, no PDQ
    assert lines[1]["md5"] == "5d41402abc4b2a76b9719d911017c592"
    assert set(lines[2]) == {"path", "md5", "sha1", "sha256", "pdq", "pdq_quality"}
    code, lines, _ = run("hash", "--any-file", str(folder / "notes.txt"))
    assert code == 0 and lines[0]["md5"] == "5d41402abc4b2a76b9719d911017c592"


def test_bank_import_match_export(run, testdata: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    image = testdata / "pdq/bridge-mods/aaa-orig.jpg"
    signals = hash_content(image.read_bytes())
    assert signals.pdq is not None
    listing = tmp_path / "list.csv"
    listing.write_text(f"signal_type,signal,id,category\npdq,{signals.pdq.hex()},x1,A\n")
    assert run("bank", "create", "iwf", "--pdq-threshold", "25")[0] == 0
    code, lines, _ = run("import", str(listing), "--bank", "iwf")
    assert code == 0 and lines[0]["entries_added"] == 1
    code, lines, _ = run("bank", "list")
    assert lines == [
        {
            "name": "iwf",
            "pdq_threshold": 25,
            "thresholds": {"pdq": 25},
            "enabled": True,
            "match_fields": ["category", "severity"],
            "active_entries": 1,
        }
    ]

    code, lines, _ = run("match", str(testdata / "pdq/bridge-mods"))
    assert code == 0 and len(lines) == 12
    assert all(line["matches"][0]["entry"] == "x1" for line in lines)
    assert run("match", "--fail-on-match", str(image))[0] == 10

    signal_file = tmp_path / "signals.txt"
    signal_file.write_text(f"# comment\npdq {signals.pdq.hex()}\nmd5 123\nsha1\n")
    code, lines, _ = run("match", "--signals", str(signal_file))
    assert code == 3
    assert lines[0]["matches"][0]["entry"] == "x1" and lines[0]["line"] == 2
    assert lines[1] == {"line": 3, "error": "md5 must be 32 hex digits, got 3 characters"}
    assert lines[2] == {"line": 4, "error": "expected 'TYPE VALUE'"}

    code, lines, _ = run("match", "-", stdin=f"{image}\n")
    assert code == 0 and lines[0]["matches"][0]["entry"] == "x1"

    out = tmp_path / "out.jsonl"
    assert run("export", "--bank", "iwf", "--format", "jsonl", "-o", str(out))[0] == 0
    assert json.loads(out.read_text()) == {
        "signal_type": "pdq", "signal": signals.pdq.hex(), "id": "x1", "category": "A",
    }  # fmt: skip


def test_errors_are_one_line_with_exit_codes(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text("signal_type,signal\nmd5,xyz\n")
    code, _, err = run("import", str(bad), "--bank", "missing")
    assert code == 5 and err == "hashguard: no bank named 'missing' (see `hashguard bank list`)\n"
    run("bank", "create", "iwf")
    code, _, err = run("import", str(bad), "--bank", "iwf")
    assert code == 4 and "line 2: md5 must be 32 hex digits" in err and "Traceback" not in err
    assert run("bank", "create", "iwf")[0] == 6
    code, _, err = run("import", str(tmp_path / "list.xlsx"), "--bank", "iwf")
    assert code == 2 and "--format" in err
    assert run("match")[0] == 2


def test_console_script_is_installed() -> None:
    exe = shutil.which("hashguard")
    assert exe is not None
    done = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("hashguard ")


def test_global_options_work_after_the_subcommand_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    assert main(["bank", "create", "only-in-a", "--db", first]) == 0
    assert main(["--db", second, "bank", "create", "only-in-b"]) == 0
    capsys.readouterr()
    for argv in (
        ["bank", "list", "--db", first],
        ["--db", first, "bank", "list"],
        ["bank", "--db", first, "list"],
        ["--db", second, "bank", "list", "--db", first],
    ):
        assert main(argv) == 0
        names = [json.loads(line)["name"] for line in capsys.readouterr().out.splitlines()]
        assert names == ["only-in-a"], argv  # given after the subcommand, it wins
    assert main(["bank", "list", "--db", second, "-v"]) == 0


def test_bad_arguments_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["keys", "create", "--scope", "match", "--rate-limit", "-1"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "hashguard keys create: argument --rate-limit: must be 0 or more, not -1 "
        "(see `hashguard keys create --help`)"
    ]
