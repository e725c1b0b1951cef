"""Opening a database from a URL, and bringing its schema up to date."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from hashguard.errors import ConfigError, StoreBusy
from hashguard.store.workdir import make_private_dir

MIGRATIONS = Path(__file__).with_name("migrations")
SORT_THREADS = min(4, os.cpu_count() or 1) - 1  # SQLite's helpers besides the caller
LOCK_WAIT = 60.0  # seconds a SQLite writer waits for another's write lock before giving up
FILE_MODE = 0o600  # the lists and key hashes are secret; SQLite gives -wal/-shm this mode too
IDLE_PING = 5.0  # seconds unused after which a kept connection is pinged before its next use


def default_db_url() -> str:
    """A per-user SQLite file: ``$XDG_DATA_HOME/hashguard/hashguard.db``."""
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{data_home / 'hashguard' / 'hashguard.db'}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Transactions are begun by _sqlite_begin, not by the driver (which would begin them
    # deferred, only at the first write, and turn a wait for the lock into an error).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the importer
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute(f"PRAGMA threads={SORT_THREADS}")  # large sorts (index builds) in parallel
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """Writers take the write lock up front (``BEGIN IMMEDIATE``), so a second writer waits
    for it (up to :data:`LOCK_WAIT`) instead of failing when its read turns into a write;
    readers begin deferred and never wait (WAL)."""
    write = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


_WRITE = "hashguard_write"


def _create_private(path: Path) -> None:
    """Create a new SQLite file owner-only (and the folders it needs, owner-only too)
    before SQLite does, which would make it world-readable."""
    make_private_dir(path.parent)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


class KeptConnection:
    """One PostgreSQL connection kept for work done many times a second (the writer of
    single adds, the follower's rounds). A pooled checkout pings the server first, and a
    pooled read also begins and rolls back a transaction: round trips that were ~0.25 ms of
    a ~1.8 ms add on loopback. This one is pinged only after :data:`IDLE_PING` seconds
    unused, replaced when lost, and while one thread uses it another gets a pooled one.
    ``autocommit``: for reads of one statement each (no BEGIN, no ROLLBACK). On SQLite
    (no server, nothing to ping) :meth:`use` is a pooled checkout."""

    def __init__(self, engine: Engine, *, autocommit: bool = False) -> None:
        self.engine = engine
        self._autocommit = autocommit
        self._kept = engine.dialect.name == "postgresql"
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._used = 0.0

    @contextmanager
    def use(self) -> Iterator[Connection]:
        if not self._kept or not self._lock.acquire(blocking=False):
            with self.engine.connect() as conn:
                yield self._options(conn)
            return
        try:
            conn = self._ready()
            try:
                yield conn
            finally:
                if not conn.invalidated and conn.in_transaction():
                    conn.rollback()  # what the pool's reset would have done
                if conn.invalidated:  # lost: the next use connects anew
                    self._drop()
                self._used = time.monotonic()
        finally:
            self._lock.release()

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _options(self, conn: Connection) -> Connection:
        return conn.execution_options(isolation_level="AUTOCOMMIT") if self._autocommit else conn

    def _ready(self) -> Connection:
        if self._conn is not None and time.monotonic() - self._used > IDLE_PING:
            try:
                dbapi = self._conn.connection.dbapi_connection
                if dbapi is None or not self.engine.dialect.do_ping(dbapi):
                    raise ConnectionError("lost")
            except Exception:  # the server restarted, or a proxy closed it while idle
                self._conn.invalidate()
                self._drop()
        if self._conn is None:
            self._conn = self._options(self.engine.connect())
        return self._conn

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Exception):
                conn.close()


@contextmanager
def begin_write(engine: Engine, kept: KeptConnection | None = None) -> Iterator[Connection]:
    """A transaction that will write: on SQLite it holds the write lock from its start.
    A writer that waited :data:`LOCK_WAIT` in vain raises :class:`StoreBusy`. ``kept``: the
    connection to write on (PostgreSQL), instead of one from the pool."""
    if engine.dialect.name != "sqlite":
        if kept is None:
            with engine.begin() as conn:
                yield conn
        else:
            with kept.use() as conn, conn.begin():
                yield conn
        return
    try:
        with engine.connect() as conn, conn.execution_options(**{_WRITE: True}).begin():
            yield conn
    except OperationalError as e:
        if "locked" not in str(e.orig) and "busy" not in str(e.orig):
            raise
        raise StoreBusy(
            f"the database {engine.url.database} is being written by another process (an "
            "import or sync?) and stayed locked for longer than this one waits; try again "
            "when that is done"
        ) from None


def open_engine(url: str, *, lock_wait: float = LOCK_WAIT) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"not a database URL: {url!r} (try sqlite:///path/hg.db or postgresql://host/db)"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            _create_private(Path(parsed.database).expanduser())
        engine = create_engine(parsed, connect_args={"timeout": lock_wait})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if not parsed.drivername.startswith("postgresql"):
        raise ConfigError(f"unsupported database {parsed.drivername!r}: use SQLite or PostgreSQL")
    return create_engine(parsed, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Apply every Alembic migration not yet applied."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:  # up to date (the usual case): no lock to wait for
        current = MigrationContext.configure(connection).get_current_heads()
    if set(current) == set(ScriptDirectory.from_config(config).get_heads()):
        return
    with begin_write(engine) as connection:  # two processes starting: one migrates
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
