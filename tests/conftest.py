"""Shared fixtures: the reference test data, and stores on SQLite, PostgreSQL and in memory.

Every store test runs on both databases. PostgreSQL comes from ``HASHGUARD_TEST_PG``
(default ``postgresql://postgres@127.0.0.1:5432/test``); each test gets a schema of its own.
If no server answers the PostgreSQL cases are skipped, unless ``HASHGUARD_REQUIRE_PG`` or
``CI`` is set, which makes them fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from hashguard.store.memory import MemoryStore
from hashguard.store.repositories import Repositories
from hashguard.store.store import Store

REPO = Path(__file__).resolve().parents[1]
# The reference files the tests read ship with the repo (tests/data/README.md says what and
# whence), so a clone with nothing beside it passes.
TESTDATA = Path(os.environ.get("HASHGUARD_TESTDATA", REPO / "tests" / "data" / "threatexchange"))
PDQ_DATA = TESTDATA / "pdq"
PG_URL = os.environ.get("HASHGUARD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_required() -> bool:
    return bool(os.environ.get("HASHGUARD_REQUIRE_PG") or os.environ.get("CI"))


@pytest.fixture(scope="session")
def testdata() -> Path:
    if not TESTDATA.is_dir():
        pytest.fail(f"reference test data not found at {TESTDATA} (set HASHGUARD_TESTDATA)")
    return TESTDATA


VIDEOS = TESTDATA / "videos"


@pytest.fixture(scope="session")
def video_copies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Copies of the chair clip made the way copies spread (tests/video_clips.py), with the
    original under "original" and the unrelated clips under "doorknob" and "padded"."""
    from tests.video_clips import COPIES, derive

    source = VIDEOS / "chair-19-sd-bar.mp4"
    made = derive(source, tmp_path_factory.mktemp("videos"), COPIES)
    return {
        "original": source,
        **made,
        "doorknob": VIDEOS / "doorknob-hd-no-bar.mp4",
        "padded": VIDEOS / "test-padded-dimensions.mp4",
    }


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, empty schema."""
    try:
        conn = psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True)
    except psycopg.OperationalError as e:
        if _pg_required():
            pytest.fail(f"PostgreSQL required but not reachable at {PG_URL}: {e}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    schema = f"hg_test_{uuid.uuid4().hex[:12]}"
    conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
        conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hg.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    yield s
    s.close()


@pytest.fixture(params=["sqlite", "postgresql", "memory"])
def repos(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Repositories]:
    """A store behind the repository interfaces: SQL on each database, or in memory. Tests
    taking this are the contract every implementation keeps."""
    if request.param == "memory":
        s: Repositories = MemoryStore()
    elif request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'hg.db'}")
    else:
        s = Store(str(request.getfixturevalue("pg_url")))
    yield s
    s.close()
