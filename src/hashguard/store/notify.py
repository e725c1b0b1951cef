"""Waking followers at once on PostgreSQL: every transaction that changes what a serving
process follows (the change log, API keys) sends a NOTIFY, delivered when it commits, and
each serving process LISTENs on a connection of its own.

The channel is named for the schema (stores in other schemas of one database have logs of
their own): ``hg_`` and the MD5 of the schema's name, which is always a valid identifier.
SQLite has nothing of the kind: its followers poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)

_CHANNEL = "'hg_' || md5(current_schema())"
RETRY_SECONDS = 5.0  # between attempts to listen again after the connection failed
CHECK_SECONDS = 1.0  # how often the listening thread looks whether it should stop


# An expression to select in a transaction: the listeners are notified when it commits.
PG_NOTIFY = f"pg_notify({_CHANNEL}, '')"
KEYS = "keys"  # the payload of a change to API keys (the change log's is empty)


def changed(conn: Connection, payload: str = "") -> None:
    """Notify the listeners of this store when ``conn``'s transaction commits."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_notify({_CHANNEL}, %s)", (payload,))


class Listener:
    """A thread that LISTENs for this store's notifications and calls ``wake`` for each,
    and once each time it starts listening (what changed while it was not is then seen).

    ``listening`` is False until it listens and again whenever its connection fails (it
    tries again every RETRY_SECONDS); a follower polls often meanwhile. ``key_changes``
    counts notifications of changed API keys, and each start of listening (keys may have
    changed unannounced before): a server reloads its keys when the count moves.
    """

    def __init__(self, engine: Engine, wake: Callable[[], object]) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("LISTEN/NOTIFY needs PostgreSQL")
        self.engine = engine
        self.wake = wake
        self.listening = False
        self.notifications = 0
        self.key_changes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hashguard-listen", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(CHECK_SECONDS * 3)

    def _connect(self) -> Any:
        # A connection of the engine's (same URL and options), taken out of its pool for good.
        raw = self.engine.raw_connection()
        conn = raw.driver_connection
        raw.detach()
        if conn is None:
            raise RuntimeError("no connection")
        conn.rollback()  # the pool's connection may be in a transaction already
        conn.autocommit = True
        return conn

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    channel = conn.execute(f"SELECT {_CHANNEL}").fetchone()[0]
                    conn.execute(f'LISTEN "{channel}"')  # hg_ + hex digits: nothing to quote
                    self.key_changes += 1
                    self.listening = True
                    self.wake()
                    while not self._stop.is_set():
                        for n in conn.notifies(timeout=CHECK_SECONDS, stop_after=1):
                            self.notifications += 1
                            if n.payload == KEYS:
                                self.key_changes += 1
                            self.wake()
            except Exception as e:  # the database went away: poll until it is back
                level = logging.WARNING if self.listening else logging.DEBUG
                log.log(level, "not listening for changes (%r); polling instead", e)
            self.listening = False
            self._stop.wait(RETRY_SECONDS)
