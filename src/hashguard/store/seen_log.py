"""The seen log in the SQL store: every checked item's hashes and context, buffered in
memory and written by a thread every :data:`FLUSH_SECONDS` (or every :data:`FLUSH_ROWS`
rows), never on the request path.

What a crash can lose is what was buffered: at most the last FLUSH_SECONDS of checks (the
match log, written before an answer, holds every non-allow verdict regardless). A
database that cannot be written does not hold up checks: rows wait in the buffer, up to
:data:`MAX_BUFFER`, and beyond that the oldest are dropped and counted (``dropped``).

On PostgreSQL the table is partitioned by day: each day's partition is made when its first
rows come, and a purge drops whole days. On SQLite a purge deletes in batches.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError, ProgrammingError

from hashguard.store import tables as t
from hashguard.store.database import KeptConnection, begin_write
from hashguard.store.sources import claim_lease
from hashguard.store.stats_table import count_checked

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.5
FLUSH_ROWS = 5_000
MAX_BUFFER = 200_000  # rows kept while the database cannot be written
PURGE_BATCH = 10_000
CONTEXT = ("content_id", "chat_id", "uploader_id", "surface", "event_time")
SIGNAL_COLUMNS = ("md5", "sha256", "pdq")


def seen_row(
    at: datetime, verdict: str, content_key: str, signals: dict[str, Any],
    context: dict[str, str], match_id: int | None = None, list_seq: int = 0,
    matched: tuple[tuple[str, str], ...] = (),
) -> dict[str, Any]:  # fmt: skip
    """One row of the seen log: cheap to build (it is made for every check). ``list_seq``:
    the change-log position the indexes were at when it was checked. ``matched``: the
    (bank, category) pairs an ``allow`` matched (no rule acted: the match log has no row
    of it), for the statistics only; not stored in the seen log."""
    row: dict[str, Any] = {
        "day": at.date(), "at": at, "verdict": verdict, "match_id": match_id,
        "list_seq": list_seq,
        "content_key": content_key[:300], "signals": signals, "matched": matched,
    }  # fmt: skip
    for key in CONTEXT:
        row[key] = context.get(key)
    for key in SIGNAL_COLUMNS:
        value = signals.get(key)
        row[key] = value if isinstance(value, str) else None
    return row


class SeenLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._kept = KeptConnection(engine)
        self._buffer: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._days: set[date] = set()  # partitions known to exist (PostgreSQL)
        self.written = 0
        self.dropped = 0

    def record(self, row: dict[str, Any]) -> None:
        """Queue one row (see :func:`seen_row`); returns at once."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="hashguard-seen", daemon=True
                )
                self._thread.start()
            self._buffer.append(row)
            if len(self._buffer) > MAX_BUFFER:
                self._buffer.popleft()
                self.dropped += 1
            if len(self._buffer) >= FLUSH_ROWS:
                self._wake.set()

    def flush(self) -> int:
        """Write what is buffered now; returns how many rows."""
        with self._lock:
            rows = list(self._buffer)
            self._buffer.clear()
        if not rows:
            return 0
        try:
            self._write(rows)
        except Exception:
            with self._lock:  # back in front, in order, for the next try
                self._buffer.extendleft(reversed(rows))
                while len(self._buffer) > MAX_BUFFER:
                    self._buffer.popleft()
                    self.dropped += 1
            raise
        self.written += len(rows)
        return len(rows)

    def _write(self, rows: list[dict[str, Any]]) -> None:
        postgres = self.engine.dialect.name == "postgresql"
        with begin_write(self.engine, self._kept) as conn:
            if postgres:
                for day in {r["day"] for r in rows} - self._days:
                    _partition(conn, day)
            # The driver's executemany, not SQLAlchemy's: its per-row parameter processing
            # was half of the seen log's cost on the serving processes (cProfile).
            marks = ", ".join(["?" if not postgres else "%s"] * len(_INSERTED))
            conn.exec_driver_sql(_INSERT.format(marks=marks), [_values(r, postgres) for r in rows])
            count_checked(conn, rows)  # the statistics' count outlives the rows
        if postgres:
            self._days.update(r["day"] for r in rows)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            try:
                self.flush()
            except Exception:
                log.exception("could not write the seen log; its rows wait in memory")

    def records(
        self, *, content_key: str | None = None, column: str | None = None,
        value: str | None = None, ids: Sequence[int] | None = None, limit: int = 1000,
        values: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Rows oldest first: all, one item's (``content_key``), those with one hash
        (``column`` md5, sha256 or pdq equal to ``value``, or to any of ``values``), or by
        id."""
        s = t.seen
        q = select(s).order_by(s.c.at, s.c.id).limit(limit)
        if content_key is not None:
            q = q.where(s.c.content_key == content_key)
        if column is not None:
            if column not in SIGNAL_COLUMNS:
                raise ValueError(f"not a hash column of the seen log: {column}")
            q = q.where(s.c[column].in_(list(values)) if values is not None
                        else s.c[column] == value)  # fmt: skip
        if ids is not None:
            q = q.where(s.c.id.in_(list(ids)))
        with self.engine.connect() as conn:
            return [_out(r) for r in conn.execute(q)]

    def pdq_after(self, after: int, limit: int = 100_000) -> list[tuple[int, str]]:
        """(id, pdq) of the rows after id ``after`` that have a PDQ hash, in id order: what
        an index of the seen log is built and extended from."""
        s = t.seen
        q = (select(s.c.id, s.c.pdq).where(s.c.id > after, s.c.pdq.is_not(None))
             .order_by(s.c.id).limit(limit))  # fmt: skip
        with self.engine.connect() as conn:
            return [(int(i), str(p)) for i, p in conn.execute(q)]

    def last_id(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.coalesce(func.max(t.seen.c.id), 0))) or 0)

    def claim(self, owner: str, seconds: float) -> bool:
        """The retroactive matcher's lease: one at a time across every replica."""
        return claim_lease(self.engine, "retro_lease", owner, seconds)

    def cursor(self, name: str) -> int:
        """A follower's position (retroactive matching's in the change log), 0 at first."""
        with self.engine.connect() as conn:
            found = conn.scalar(select(t.meta.c.value).where(t.meta.c.key == f"cursor:{name}"))
        return int(found or 0)

    def set_cursor(self, name: str, value: int) -> None:
        m = t.meta
        with begin_write(self.engine) as conn:
            done = conn.execute(
                update(m).where(m.c.key == f"cursor:{name}").values(value=str(value))
            ).rowcount
            if not done:
                conn.execute(insert(m).values(key=f"cursor:{name}", value=str(value)))

    def purge(self, before: date) -> int:
        """Delete every day before ``before``: drop its partitions on PostgreSQL, delete
        in batches on SQLite. Returns how many rows."""
        if self.engine.dialect.name == "postgresql":
            return self._drop_days(before)
        s = t.seen
        oldest = select(s.c.id).where(s.c.day < before).order_by(s.c.id).limit(PURGE_BATCH)
        total = 0
        while True:
            with begin_write(self.engine) as conn:
                n = conn.execute(delete(s).where(s.c.id.in_(oldest.scalar_subquery()))).rowcount
            total += n
            if not n:
                return total

    def _drop_days(self, before: date) -> int:
        total = 0
        with begin_write(self.engine) as conn:
            names = conn.scalars(text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent "
                "JOIN pg_namespace n ON n.oid = p.relnamespace "
                "WHERE p.relname = 'hg_seen' AND n.nspname = current_schema()"
            )).all()  # fmt: skip
            for name in names:
                day = _day_of(name)
                if day is not None and day < before:
                    total += conn.scalar(text(f"SELECT count(*) FROM {name}")) or 0
                    conn.execute(text(f"DROP TABLE {name}"))
                    self._days.discard(day)
        return int(total)

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        try:
            self.flush()
        except Exception:
            log.exception("could not write the seen log's last rows")
        self._kept.close()


_INSERTED = ("day", "at", "verdict", "match_id", "list_seq", "content_key", *CONTEXT,
             *SIGNAL_COLUMNS, "signals")  # fmt: skip
_INSERT = f"INSERT INTO hg_seen ({', '.join(_INSERTED)}) VALUES ({{marks}})"


def _values(row: dict[str, Any], postgres: bool) -> tuple[Any, ...]:
    values = [row[k] for k in _INSERTED[:-1]] + [json.dumps(row["signals"])]
    if not postgres:  # as SQLAlchemy's SQLite types store them (and read them back)
        values[0] = row["day"].isoformat()
        values[1] = row["at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return tuple(values)


def _out(r: Any) -> dict[str, Any]:
    return {**r._asdict(), "signals": json.loads(r.signals), "day": r.day.isoformat(),
            "at": r.at.isoformat()}  # fmt: skip


def _partition(conn: Any, day: date) -> None:
    """The day's partition, made if missing; another process making it at the same moment
    is no error (its CREATE wins, ours is rolled back to the savepoint)."""
    name = f"hg_seen_{day:%Y%m%d}"
    end = day + timedelta(days=1)
    try:
        with conn.begin_nested():
            conn.execute(text(
                f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF hg_seen "
                f"FOR VALUES FROM ('{day.isoformat()}') TO ('{end.isoformat()}')"
            ))  # fmt: skip
    except (IntegrityError, ProgrammingError):
        pass


def _day_of(name: str) -> date | None:
    try:
        return datetime.strptime(name.removeprefix("hg_seen_"), "%Y%m%d").replace(tzinfo=UTC).date()
    except ValueError:
        return None
