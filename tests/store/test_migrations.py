"""Upgrading a database made by an earlier version keeps its banks, entries and change log."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from hashguard.store.database import MIGRATIONS, open_engine
from hashguard.store.store import Store
from tests.helpers import import_text

MD5 = "0123456789abcdef0123456789abcdef"
PDQ = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"


def _upgrade(url: str, revision: str) -> None:
    engine = open_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        if revision == "0001":  # what version 0001 wrote for a bank with one entry
            conn.execute(
                text("INSERT INTO hg_banks (name, pdq_threshold, enabled) VALUES ('iwf', 31, true)")
            )
            conn.execute(
                text(
                    "INSERT INTO hg_entries (bank_id, source_id, status, category) "
                    "VALUES (1, 'item-1', 'retracted', 'A')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO hg_entry_signals (entry_id, signal_type, value) "
                    f"VALUES (1, 'md5', '{MD5}'), (1, 'pdq', '{PDQ}')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO hg_changes (kind, bank_id, entry_id, signal_type, value) "
                    f"VALUES ('bank', 1, NULL, NULL, NULL), ('add', 1, 1, 'md5', '{MD5}'), "
                    f"('add', 1, 1, 'pdq', '{PDQ}'), ('retract', 1, 1, 'md5', '{MD5}'), "
                    f"('retract', 1, 1, 'pdq', '{PDQ}')"
                )
            )
    engine.dispose()


def test_0002_keeps_the_change_log_and_entries(db_url: str) -> None:
    _upgrade(db_url, "0001")
    store = Store(db_url)  # migrates to the newest revision
    try:
        changes = [
            (c.seq, c.kind, c.entry_pk, c.signal_type, c.value) for c in store.changes_after(0)
        ]
        assert changes == [
            (1, "bank", None, None, None),
            (2, "add", 1, "md5", MD5),
            (3, "add", 1, "pdq", PDQ),
            (4, "retract", 1, "md5", MD5),
            (5, "retract", 1, "pdq", PDQ),
        ]
        assert {s.value for s in store.entries([1])[1].signals} == {MD5, PDQ}
        assert store.bank("iwf").match_fields == ("category", "severity")  # 0004's default
        # the upgraded tables take imports: reactivation, then an idempotent re-import
        listed = f"signal_type,signal,id,category\nmd5,{MD5},item-1,A\nmd5,{'f' * 32},item-2,B\n"
        report = import_text(store, "iwf", listed)
        assert (report.reactivated, report.entries_added, report.first_seq) == (1, 1, 6)
        assert import_text(store, "iwf", listed).last_seq is None
        assert len(list(store.export_rows("iwf"))) == 3
    finally:
        store.close()


def _alembic(url: str, step: str, revision: str) -> None:
    engine = open_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, step)(config, revision)
    engine.dispose()


def test_0006_keeps_each_banks_pdq_threshold(db_url: str) -> None:
    _alembic(db_url, "upgrade", "0005")
    engine = open_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO hg_banks (name, pdq_threshold, enabled) "
                "VALUES ('tight', 12, true), ('usual', 31, false)"
            )
        )
    engine.dispose()
    store = Store(db_url)
    try:
        assert {b.name: dict(b.thresholds) for b in store.banks()} == {
            "tight": {"pdq": 12},
            "usual": {"pdq": 31},
        }
        assert not store.bank("usual").enabled
        store.update_bank("tight", thresholds={"pdq": 20})
    finally:
        store.close()
    # and back: the PDQ threshold returns to its column
    _alembic(db_url, "downgrade", "0005")
    engine = open_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT name, pdq_threshold FROM hg_banks ORDER BY name")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("tight", 20), ("usual", 31)]
