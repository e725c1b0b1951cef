"""Two writers on one SQLite file: the second waits for the first's write lock (taken up
front), and both succeed; one that waits too long gets a clear error, never a traceback."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from hashguard.errors import StoreBusy
from hashguard.store.store import Store
from tests.api.conftest import make_service
from tests.helpers import import_text

ROUNDS = 15


def _writer(url: str, name: str, barrier: threading.Barrier, failures: list[BaseException]) -> None:
    store = Store(url)
    try:
        store.create_bank(name)
        barrier.wait()
        for i in range(ROUNDS):
            listed = "signal_type,signal,id\n" + "".join(
                f"md5,{(i * 100 + n):032x},{name}-{i}-{n}\n" for n in range(50)
            )
            import_text(store, name, listed)  # reads, then writes, in one transaction
            store.keys.create(f"{name}-{i}", ["match"], actor="test")
            store.retract_entry(name, f"{name}-{i}-0")
    except BaseException as e:  # the test reports it
        failures.append(e)
    finally:
        store.close()


def test_two_writers_on_one_sqlite_file_both_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hg.db'}"
    Store(url).close()
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []
    threads = [
        threading.Thread(target=_writer, args=(url, name, barrier, failures))
        for name in ("one", "two")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)  # before the fix they could wait on each other for ever
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    store = Store(url)
    try:
        counts = store.bank_counts()
        for name in ("one", "two"):
            assert counts[name] == {"active": ROUNDS * 49, "retracted": ROUNDS}
        assert len(store.keys.list()) == 2 * ROUNDS
        # every change numbered once, in one sequence
        seqs = [c.seq for c in store.changes_after(0)]
        assert seqs == list(range(1, len(seqs) + 1))
    finally:
        store.close()


@pytest.fixture
def locked(tmp_path: Path) -> tuple[str, sqlite3.Connection]:
    """A store whose write lock another process-like connection holds."""
    path = tmp_path / "hg.db"
    Store(f"sqlite:///{path}").close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return f"sqlite:///{path}", holder


def test_a_writer_that_waits_too_long_gets_a_clear_error(
    locked: tuple[str, sqlite3.Connection],
) -> None:
    url, holder = locked
    store = Store(url, lock_wait=0.2)  # opening (and migrating, if up to date) never waits
    try:
        with pytest.raises(StoreBusy, match="being written by another process") as caught:
            store.create_bank("iwf")
        assert caught.value.exit_code == 11 and "\n" not in caught.value.message
        assert store.banks() == []  # reading never waits
        holder.rollback()
        store.create_bank("iwf")  # and it works once the other is done
    finally:
        holder.close()
        store.close()


def test_the_api_answers_503_while_another_writer_holds_the_lock(
    locked: tuple[str, sqlite3.Connection], tmp_path: Path
) -> None:
    url, holder = locked
    holder.rollback()
    store = Store(url, lock_wait=0.2)
    service = make_service(store, tmp_path)
    svc = next(service)
    try:
        holder.execute("BEGIN IMMEDIATE")
        r = svc.call("POST", "/v1/banks", json={"name": "iwf"})
        assert r.status_code == 503, r.text
        assert r.json()["error"]["type"] == "StoreBusy"
        holder.rollback()
        assert svc.call("POST", "/v1/banks", json={"name": "iwf"}).status_code == 201
    finally:
        holder.close()
        service.close()
        store.close()
