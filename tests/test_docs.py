"""The docs are part of the product: check they cover what the code offers."""

from __future__ import annotations

import argparse
import re

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
        "db_url", "index_dir", "limits", "exact_orientations", "rate_limit", "max_list_bytes",
        "probe_window", "probe_bits", "probe_limit", "probe_block",
    }  # fmt: skip


def test_readme_opens_with_the_two_setup_commands() -> None:
    readme = (REPO / "README.md").read_text()
    block = readme.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 2
    assert block[0].endswith("hashguard serve") and block[1].endswith("pytest")
    assert block[1] in (REPO / ".ci" / "run").read_text()
