"""What the benchmarks share: the machine they ran on, timing, JSON output, and stores an
older version of hashguard can open (for the A/B scripts, which run a base version beside
this one in the same run)."""

from __future__ import annotations

import ast
import json
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psycopg
from alembic import command
from alembic.config import Config

from hashguard.store.database import MIGRATIONS, open_engine


def machine(packages: tuple[str, ...] = ()) -> dict[str, Any]:
    """What the figures were measured on: CPU, cores usable here, Python, SQLite and the
    versions of ``packages``."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        **{p: version(p) for p in packages},
    }


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MB."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line.split(":")[0]] = int(line.split()[1]) / 1024
    return values["VmRSS"], values["VmHWM"]


def median_seconds(action: Callable[[], object], repeats: int = 5) -> float:
    """The median wall-clock time of ``repeats`` calls of ``action``."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def ready_after(url: str, process: Any, timeout: float = 600, in_a_row: int = 10) -> float | None:
    """Seconds until ``in_a_row`` fresh connections in a row get 200 from ``url``/v1/ready
    (so every worker has loaded); None if ``process`` (a Popen) exited first."""
    import httpx  # the bench extra

    started, streak = time.monotonic(), 0
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            return None
        try:
            ok = httpx.get(f"{url}/v1/ready", timeout=2).status_code == 200
        except httpx.TransportError:
            ok = False
        streak = streak + 1 if ok else 0
        if streak == in_a_row:
            return time.monotonic() - started
        time.sleep(0.02 if ok else 0.2)
    raise SystemExit(f"{url} not ready after {timeout} s")


def write_json(path: Path | None, results: Any, packages: tuple[str, ...] = ()) -> None:
    """Save ``results`` with the machine and the command that made them (if ``path``)."""
    if path is None:
        return
    doc = {"command": " ".join(sys.argv), "machine": machine(packages), "results": results}
    path.write_text(json.dumps(doc, indent=1, default=str) + "\n")


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


@contextmanager
def pg_schema(url: str) -> Iterator[str]:
    """A PostgreSQL URL whose search path is a schema made for this run (dropped after)."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            yield f"{url}?options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
