"""Applying a list to a bank in one transaction, set-based so 10M rows take minutes, not hours.

Rows are streamed into a temporary staging table (COPY on PostgreSQL, executemany on SQLite)
while being validated. If any row was bad the transaction is rolled back: nothing changes.
Otherwise a handful of set-based statements apply it:

- for each entry key (the row's ``id``, else ``type:value``) the row with the highest line
  number decides whether the entry ends up added or retracted;
- added entries are created, or reactivated if retracted, with the metadata of their first
  row; changed metadata is updated; signals the entry lacks are added;
- retractions by id retract that entry; retractions without an id retract every active entry
  of the bank that carries the signal. Retractions apply after additions.

Joins start from the list's side (``CROSS JOIN``, which also fixes SQLite's join order), so
that a one-row list applied to a bank of millions probes its index instead of scanning it.

Every added or retracted signal gets a change-log row, in line order. Re-importing the same
file finds nothing to do and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from sqlalchemy import Connection, text

from hashguard.banks.model import ImportReport
from hashguard.errors import ListRejected, RowError
from hashguard.lists.rows import ListRow

BATCH = 20_000
BULK_ROWS = 100_000
ANALYZE_ROWS = 1_000  # staged rows from which PostgreSQL gets statistics on the temp tables
VALUE_INDEX = "ix_hg_entry_signals_value"  # as created by migration 0002
TEMP_TABLES = ("hg_stage", "hg_last", "hg_first", "hg_known", "hg_retract")
# PostgreSQL's defaults (4 MB, 64 MB) send the sorts of a large list to disk.
PG_MEMORY = ("SET LOCAL work_mem = '256MB'", "SET LOCAL maintenance_work_mem = '512MB'")

# The ListRow fields in order, then the entry key.
_STAGE_COLUMNS = (
    "line, action, id, signal_type, value, category, severity, note, quality, extra, key"
)


def _batches(rows: Iterable[ListRow]) -> Iterator[list[tuple[Any, ...]]]:
    it = iter(rows)
    # r.key, inlined: this runs once per row
    while batch := [
        (*r, r[2] if r[2] is not None else f"{r[3]}:{r[4]}") for r in islice(it, BATCH)
    ]:
        yield batch


class _Sql:
    """Runs the import's statements with the dialect's few differences filled in."""

    def __init__(self, conn: Connection, bank_id: int) -> None:
        self.conn = conn
        self.bank_id = bank_id
        self.pg = conn.dialect.name == "postgresql"
        self.staged = 0  # rows in the stage, once loaded

    def run(self, sql: str, **params: Any) -> int:
        return self.conn.execute(text(sql), {"b": self.bank_id, **params}).rowcount

    def scalar(self, sql: str, **params: Any) -> Any:
        return self.conn.execute(text(sql), {"b": self.bank_id, **params}).scalar()

    def temp(self, name: str, select: str) -> None:
        on_commit = " ON COMMIT DROP" if self.pg else ""
        self.run(f"CREATE TEMP TABLE {name}{on_commit} AS {select}")

    def differs(self, a: str, b: str) -> str:
        return f"{a} IS DISTINCT FROM {b}" if self.pg else f"{a} IS NOT {b}"

    def create_stage(self) -> None:
        for name in TEMP_TABLES:
            self.run(f"DROP TABLE IF EXISTS {name}")
        if self.pg:
            for setting in PG_MEMORY:
                self.conn.exec_driver_sql(setting)
        on_commit = " ON COMMIT DROP" if self.pg else ""
        # On SQLite the line is the rowid: scanning the table is reading it in line order.
        line = "INTEGER" if self.pg else "INTEGER PRIMARY KEY"
        self.run(
            f"CREATE TEMP TABLE hg_stage (line {line}, action TEXT, id TEXT, signal_type TEXT,"
            f" value TEXT, category TEXT, severity TEXT, note TEXT, quality INTEGER, extra TEXT,"
            f" key TEXT){on_commit}"
        )

    def analyze(self, table: str) -> None:
        """PostgreSQL keeps no statistics on temporary tables unless asked; plans over large
        ones need them (a small one is planned from its size well enough, and sooner)."""
        if self.pg and self.staged >= ANALYZE_ROWS:
            self.run(f"ANALYZE {table}")

    def load_stage(self, rows: Iterable[ListRow]) -> int:
        count = 0
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if self.pg:
            with cursor.copy(f"COPY hg_stage ({_STAGE_COLUMNS}) FROM STDIN") as copy:
                for batch in _batches(rows):
                    for record in batch:
                        copy.write_row(record)
                    count += len(batch)
            return count
        for batch in _batches(rows):
            cursor.executemany(f"INSERT INTO hg_stage VALUES ({','.join('?' * 11)})", batch)
            count += len(batch)
        return count


def apply_list(
    conn: Connection, bank_id: int, bank: str, rows: Iterable[ListRow], errors: list[RowError],
    source: str,
) -> ImportReport:  # fmt: skip
    """Stage, validate and apply ``rows``; the caller owns the transaction and the lock."""
    sql = _Sql(conn, bank_id)
    sql.create_stage()
    total = sql.staged = sql.load_stage(rows)
    if errors:
        raise ListRejected(source, sorted(errors, key=lambda e: e.line))
    before = sql.scalar("SELECT COALESCE(MAX(seq), 0) FROM hg_changes")
    signals_before = sql.scalar("SELECT COALESCE(MAX(id), 0) FROM hg_entry_signals")
    # A first import into an empty bank has nothing to update, reactivate or deduplicate
    # against, and a list without retractions nothing to retract: skip those passes.
    bank_was_empty = not sql.scalar("SELECT EXISTS (SELECT 1 FROM hg_entries WHERE bank_id = :b)")
    has_retractions = bool(
        sql.scalar("SELECT EXISTS (SELECT 1 FROM hg_stage WHERE action = 'retract')")
    )
    has_low_quality = bool(sql.scalar("SELECT EXISTS (SELECT 1 FROM hg_stage WHERE quality < 50)"))
    if has_retractions or not bank_was_empty:
        sql.run("CREATE INDEX hg_stage_key ON hg_stage (key)")
    sql.analyze("hg_stage")
    # Rows of entries whose last row is an addition. Without retractions in the list, that
    # is every row, and the pass that finds each entry's last row can be skipped.
    last_is_add = ""
    if has_retractions:
        sql.temp(
            "hg_last",
            "SELECT key, action FROM (SELECT key, action, ROW_NUMBER() OVER "
            "(PARTITION BY key ORDER BY line DESC) AS n FROM hg_stage) ranked WHERE n = 1",
        )
        sql.run("CREATE UNIQUE INDEX hg_last_key ON hg_last (key)")
        sql.analyze("hg_last")
        last_is_add = "JOIN hg_last l ON l.key = s.key AND l.action = 'add' "

    # New entries, with the metadata of their first row, in line order.
    columns = "bank_id, source_id, status, category, severity, note, extra"
    updated = reactivated = 0
    if bank_was_empty:  # the stage in line order: a key's later rows find its entry there
        added = sql.run(
            f"INSERT INTO hg_entries ({columns}) SELECT :b, s.key, 'active', s.category, "
            f"s.severity, s.note, s.extra FROM hg_stage s {last_is_add}WHERE s.action = 'add' "
            "ORDER BY s.line ON CONFLICT (bank_id, source_id) DO NOTHING"
        )
    else:
        _first_rows(sql, last_is_add)
        added = sql.run(
            f"INSERT INTO hg_entries ({columns}) SELECT :b, f.key, 'active', f.category, "
            "f.severity, f.note, f.extra FROM hg_first f WHERE NOT EXISTS (SELECT 1 FROM "
            "hg_entries e WHERE e.bank_id = :b AND e.source_id = f.key) ORDER BY f.line"
        )
        updated, reactivated = _update_entries(sql)

    # Signals the entries lack, each once, with ids (and change-log rows) in line order.
    lacking = (
        ""
        if bank_was_empty
        else "AND NOT EXISTS (SELECT 1 FROM hg_entry_signals x WHERE x.entry_id = e.id "
        "AND x.signal_type = s.signal_type AND x.value = s.value) "
    )
    # The (signal_type, value) index takes values in random order: for a first import of a
    # list as large as what is stored already, building it afresh by sorting beats inserting.
    rebuild_index = bank_was_empty and total >= BULK_ROWS and total >= signals_before
    if rebuild_index:
        sql.run(f"DROP INDEX {VALUE_INDEX}")
    signals_added = sql.run(
        "INSERT INTO hg_entry_signals (entry_id, signal_type, value, quality) "
        "SELECT e.id, s.signal_type, s.value, MIN(s.quality) FROM hg_stage s "
        f"{last_is_add}CROSS JOIN hg_entries e "
        f"WHERE e.bank_id = :b AND e.source_id = s.key AND s.action = 'add' {lacking}"
        "GROUP BY e.id, s.signal_type, s.value ORDER BY MIN(s.line)"
    )
    if rebuild_index:
        sql.run(f"CREATE INDEX {VALUE_INDEX} ON hg_entry_signals (signal_type, value)")
    sql.run(
        "INSERT INTO hg_changes (kind, bank_id, entry_id, signal_id) "
        "SELECT 'add', :b, entry_id, id FROM hg_entry_signals WHERE id > :n ORDER BY id",
        n=signals_before,
    )
    low_quality = has_low_quality and sql.scalar(
        "SELECT COUNT(*) FROM hg_entry_signals WHERE id > :n AND signal_type = 'pdq' "
        "AND quality < 50",
        n=signals_before,
    )
    retracted = _retract(sql) if has_retractions else 0
    if sql.pg and total >= BULK_ROWS:
        # Fresh statistics for the tables a bulk list just grew: without them the planner
        # takes them for nearly empty and picks nested loops that never finish at millions
        # of rows (an index rebuild right after the import, say).
        for table in ("hg_entries", "hg_entry_signals", "hg_changes"):
            sql.run(f"ANALYZE {table}")
    first, last = conn.execute(
        text("SELECT MIN(seq), MAX(seq) FROM hg_changes WHERE seq > :s"), {"s": before}
    ).one()
    if not sql.pg:
        for name in TEMP_TABLES:
            sql.run(f"DROP TABLE IF EXISTS {name}")
    return ImportReport(
        bank=bank,
        rows=total,
        entries_added=added,
        signals_added=signals_added,
        reactivated=reactivated,
        retracted=retracted,
        metadata_updated=updated,
        low_quality=int(low_quality or 0),
        first_seq=first,
        last_seq=last,
    )


def _first_rows(sql: _Sql, last_is_add: str) -> None:
    """hg_first: the first row of each entry whose last row is an addition."""
    sql.temp(
        "hg_first",
        "SELECT * FROM (SELECT s.*, ROW_NUMBER() OVER (PARTITION BY s.key ORDER BY s.line) AS n "
        f"FROM hg_stage s {last_is_add}WHERE s.action = 'add') ranked WHERE n = 1",
    )
    sql.run("CREATE UNIQUE INDEX hg_first_key ON hg_first (key)")
    sql.analyze("hg_first")


def _update_entries(sql: _Sql) -> tuple[int, int]:
    """Changed metadata and reactivation of entries the bank had already; returns the
    counts of updated and reactivated entries."""
    # The bank's entries named by the list, found once, by the list's side: a one-row import
    # into a bank of millions then costs an index probe, not a scan of the bank.
    sql.temp(
        "hg_known",
        "SELECT e.id AS entry_id, e.status, e.category AS old_category, "
        "e.severity AS old_severity, e.note AS old_note, e.extra AS old_extra, f.* "
        "FROM hg_first f CROSS JOIN hg_entries e WHERE e.bank_id = :b AND e.source_id = f.key",
    )
    sql.analyze("hg_known")
    changed = " OR ".join(
        sql.differs(f"k.old_{c}", f"k.{c}") for c in ("category", "severity", "note", "extra")
    )
    sql.run(
        "INSERT INTO hg_changes (kind, bank_id, entry_id) SELECT 'update', :b, k.entry_id "
        f"FROM hg_known k WHERE {changed} ORDER BY k.line"
    )
    updated = sql.run(
        "UPDATE hg_entries SET category = k.category, severity = k.severity, note = k.note, "
        f"extra = k.extra FROM hg_known k WHERE hg_entries.id = k.entry_id AND ({changed})"
    )
    sql.run(
        "INSERT INTO hg_changes (kind, bank_id, entry_id, signal_id) "
        "SELECT 'add', :b, k.entry_id, s.id FROM hg_known k CROSS JOIN hg_entry_signals s "
        "WHERE s.entry_id = k.entry_id AND k.status = 'retracted' ORDER BY k.line, s.id"
    )
    reactivated = sql.run(
        "UPDATE hg_entries SET status = 'active' WHERE id IN "
        "(SELECT entry_id FROM hg_known WHERE status = 'retracted')"
    )
    return updated, reactivated


def _retract(sql: _Sql) -> int:
    """Entries whose last row is a retraction by id, and active entries carrying a signal
    retracted without an id; returns how many were retracted."""
    sql.temp(
        "hg_retract",
        "SELECT e.id FROM hg_last l CROSS JOIN hg_entries e "
        "WHERE e.bank_id = :b AND e.source_id = l.key AND l.action = 'retract' "
        "AND e.status = 'active' "
        "UNION SELECT e.id FROM hg_stage s "
        "JOIN hg_last l ON l.key = s.key AND l.action = 'retract' "
        "CROSS JOIN hg_entry_signals x CROSS JOIN hg_entries e "
        "WHERE x.signal_type = s.signal_type AND x.value = s.value AND e.id = x.entry_id "
        "AND s.action = 'retract' AND s.id IS NULL AND e.bank_id = :b "
        "AND e.status = 'active'",
    )
    sql.run(
        "INSERT INTO hg_changes (kind, bank_id, entry_id, signal_id) "
        "SELECT 'retract', :b, x.entry_id, x.id FROM hg_retract r "
        "CROSS JOIN hg_entry_signals x WHERE x.entry_id = r.id ORDER BY x.entry_id, x.id"
    )
    return sql.run(
        "UPDATE hg_entries SET status = 'retracted' WHERE id IN (SELECT id FROM hg_retract)"
    )
