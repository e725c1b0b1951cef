"""The connections a PostgreSQL store keeps for its writer and its followers' reads
(store/database.py:KeptConnection): reused without a ping, never left inside a transaction,
replaced when the server drops them, and never shared by two threads at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hashguard.lists.rows import entry_rows
from hashguard.signals.registry import default_registry
from hashguard.store import database
from hashguard.store.database import KeptConnection
from hashguard.store.store import Store

REGISTRY = default_registry()
PDQ = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    s = Store(pg_url)
    s.create_bank("b")
    yield s
    s.close()


def add(store: Store, entry_id: str) -> None:
    rows, errors = entry_rows(entry_id, [("pdq", PDQ, None)], {}, REGISTRY)
    assert not errors
    store.submit_entry("b", rows).result(timeout=30)


def backend(kept: KeptConnection) -> int:
    with kept.use() as conn:
        return int(conn.scalar(text("SELECT pg_backend_pid()")))


def activity(pg_url: str, pid: int) -> str | None:
    with psycopg.connect(pg_url.replace("postgresql+psycopg", "postgresql").split("?")[0]) as c:
        row = c.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
        return None if row is None else str(row[0])


def terminate(pg_url: str, pid: int) -> None:
    with psycopg.connect(pg_url.replace("postgresql+psycopg", "postgresql").split("?")[0]) as c:
        c.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


def test_adds_and_rounds_reuse_one_connection_each_and_leave_no_transaction_open(
    store: Store, pg_url: str
) -> None:
    add(store, "a")
    writer = backend(store._writer)
    reader = backend(store._reader)
    assert writer != reader
    for i in range(5):
        add(store, f"n{i}")
        assert [c.entry_pk for c in store.changes_after(0)]
    assert backend(store._writer) == writer
    assert backend(store._reader) == reader
    # "idle in transaction" would hold back vacuum and keep the follower on an old snapshot
    assert activity(pg_url, writer) == "idle"
    assert activity(pg_url, reader) == "idle"


def test_a_connection_dropped_while_idle_is_replaced_before_use(
    store: Store, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(store, "a")
    before = store.changes_after(0)
    writer, reader = backend(store._writer), backend(store._reader)
    terminate(pg_url, writer)
    terminate(pg_url, reader)
    monkeypatch.setattr(database, "IDLE_PING", 0.0)  # both count as idle: pinged first
    add(store, "b")  # not lost: the dead connection is found by the ping and replaced
    assert len(store.changes_after(0)) > len(before)
    assert backend(store._writer) != writer
    assert backend(store._reader) != reader


def test_a_connection_dropped_while_busy_fails_one_use_and_the_next_reconnects(
    store: Store, pg_url: str
) -> None:
    add(store, "a")
    reader = backend(store._reader)
    terminate(pg_url, reader)
    with pytest.raises(DBAPIError):  # used within IDLE_PING: no ping, the error is seen
        store.changes_after(0)
    assert [c.kind for c in store.changes_after(0)]
    assert backend(store._reader) != reader


def test_adds_on_a_writer_connection_dropped_while_busy_are_written_on_a_new_one(
    store: Store, pg_url: str
) -> None:
    add(store, "a")
    writer = backend(store._writer)
    terminate(pg_url, writer)
    add(store, "b")  # within IDLE_PING: no ping; the lost connection is replaced and retried
    assert backend(store._writer) != writer
    assert store.entry("b", "b").id == "b"


def test_a_second_thread_gets_a_pooled_connection_while_the_kept_one_is_in_use(
    store: Store,
) -> None:
    kept = store._reader
    inside, done = threading.Event(), threading.Event()
    pids: dict[str, int] = {}

    def hold() -> None:
        with kept.use() as conn:
            pids["holder"] = int(conn.scalar(text("SELECT pg_backend_pid()")))
            inside.set()
            done.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert inside.wait(10)
        pids["other"] = backend(kept)
    finally:
        done.set()
        thread.join(10)
    assert pids["other"] != pids["holder"]
    assert backend(kept) == pids["holder"]  # the kept one again, once free
