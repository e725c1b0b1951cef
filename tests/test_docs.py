"""The docs are part of the product: check they cover what the code offers."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from hashguard.cli import build_parser
from hashguard.settings import Settings
from tests.conftest import REPO


def _commands(parser: argparse.ArgumentParser, prefix: str = "hashguard") -> list[str]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = _commands(sub, f"{prefix} {name}")
                out.extend(nested or [f"{prefix} {name}"])
    return out


def test_every_command_is_documented() -> None:
    text = (REPO / "docs" / "cli.md").read_text()
    for command in _commands(build_parser()):
        assert f"`{command}" in text, command


def test_every_exit_code_is_documented() -> None:
    source = (REPO / "src" / "hashguard" / "errors.py").read_text()
    codes = {int(c) for c in re.findall(r"exit_code = (\d+)", source)} | {0, 3, 10}
    table = (REPO / "docs" / "cli.md").read_text().split("## Exit codes")[1]
    assert codes <= {int(c) for c in re.findall(r"^\| (\d+) \|", table, re.M)}


def test_every_setting_is_documented() -> None:
    text = (REPO / "docs" / "operations.md").read_text()
    for env in re.findall(r"HASHGUARD_[A-Z_]+", (REPO / "src/hashguard/settings.py").read_text()):
        assert env in text, env
    assert set(Settings.__dataclass_fields__) == {
        "db_url", "index_dir", "limits", "video", "review", "reports", "reporting_file",
        "exact_orientations", "rate_limit",
        "max_list_bytes",
        "probe_window", "probe_bits", "probe_limit", "probe_block", "webhook_allow_private",
        "match_log_days", "outbox_days", "seen_days",
    }  # fmt: skip


def test_readme_opens_with_the_two_setup_commands() -> None:
    readme = (REPO / "README.md").read_text()
    block = readme.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 2
    assert block[0].endswith("hashguard serve") and block[1].endswith("pytest")
    assert block[1] in (REPO / ".ci" / "run").read_text()


def _quick_start() -> str:
    readme = (REPO / "README.md").read_text()
    return readme.split("## Quick start", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]


def test_readme_quick_start_runs_as_written(tmp_path: Path) -> None:
    """Every line of the README's quick start, run by bash on a fresh store, from a folder
    holding the repository's examples/. The one change: port 8000 becomes a free port, as
    other programs on a shared machine may hold 8000."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = _quick_start().replace(":8000", f":{port}").replace("--port 8000", f"--port {port}")
    assert str(port) in script and "8000" not in script
    (tmp_path / "examples").symlink_to(REPO / "examples")
    env = {**os.environ, "HASHGUARD_DB": f"sqlite:///{tmp_path / 'hg.db'}",
           "HASHGUARD_INDEX_DIR": str(tmp_path / "idx"),
           "HASHGUARD_CONFIG": str(tmp_path / "none.toml"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip
    (tmp_path / "none.toml").write_text("")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    # Output to files, not pipes: the server left in the background holds them open.
    with open(tmp_path / "out", "w") as out_file, open(tmp_path / "err", "w") as err_file:
        shell = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env,
            stdout=out_file, stderr=err_file, text=True, start_new_session=True,
        )  # fmt: skip
        try:
            shell.wait(timeout=180)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(shell.pid, signal.SIGTERM)  # the server it left in the background
    out, err = (tmp_path / "out").read_text(), (tmp_path / "err").read_text()
    assert shell.returncode == 0, err
    lines = [obj for line in out.splitlines() if line.startswith("{") for obj in _objects(line)]
    matched = {Path(r["path"]).name: [m["entry"] for m in r["matches"]] for r in lines
               if "path" in r and "matches" in r}  # fmt: skip
    assert matched == {"photo-small.jpg": ["example-1"], "other.jpg": []}
    by_signals = [r for r in lines if "line" in r]
    assert [[m["entry"] for m in r["matches"]] for r in by_signals] == [["example-1"], []]
    # The curl upload: the one answer with neither a path nor a line (the server, in the
    # background, writes to the same output and may do so after it).
    answers = [r for r in lines if "verdict" in r and "path" not in r and "line" not in r]
    assert answers, (lines[-3:], err)
    answer = answers[-1]
    assert [(m["entry"], m["signal_type"]) for m in answer["matches"]] == [("example-1", "pdq")]
    assert "example-1" in (tmp_path / "copy.csv").read_text()


def _objects(line: str) -> list[Any]:
    """The JSON objects on one line: curl --retry prints a 503's body and then, with no
    newline between, the answer's."""
    decoder, out, at = json.JSONDecoder(), [], 0
    while at < len(line):
        obj, at = decoder.raw_decode(line, at)
        out.append(obj)
    return out
