"""What the benchmarks share: a description of the machine, and stores an older version of
hashguard can open (for the A/B scripts, which run a base version beside this one)."""

from __future__ import annotations

import ast
import os
import platform
import shutil
from pathlib import Path

from alembic import command
from alembic.config import Config

from hashguard.store.database import MIGRATIONS, open_engine


def machine() -> str:
    """One line: CPU model, cores usable here, Python."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0))
    return f"{model}, {cores} cores, Python {platform.python_version()}"


def head_revision(source: Path) -> str:
    """The newest schema revision the hashguard in ``source`` (a ``src`` directory) knows."""
    revisions: dict[str, str | None] = {}
    for path in (source / "hashguard/store/migrations/versions").glob("*.py"):
        found: dict[str, str | None] = {}
        for node in ast.parse(path.read_text()).body:
            target = node.targets[0] if isinstance(node, ast.Assign) else None
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                found[target.id] = ast.literal_eval(node.value)  # type: ignore[union-attr]
        if "revision" in found:
            revisions[str(found["revision"])] = found.get("down_revision")
    parents = set(revisions.values())
    (head,) = [r for r in revisions if r not in parents]
    return head


def store_for(source: Path, db_file: Path) -> str:
    """A copy of the SQLite store ``db_file`` (made by this version) at the schema the
    version in ``source`` knows, so that both sides of an A/B read the same rows. This
    version's migrations take the copy down; the URL of the copy."""
    copy = db_file.with_name(f"{db_file.stem}-{abs(hash(str(source.resolve())))}.db")
    shutil.copyfile(db_file, copy)
    url = f"sqlite:///{copy}"
    engine = open_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, head_revision(source))
    engine.dispose()
    return url
