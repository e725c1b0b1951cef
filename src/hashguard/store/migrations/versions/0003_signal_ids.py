"""Signals get ids; the change log refers to them instead of copying type and value; a
plain index on entry_id replaces the unique (entry_id, signal_type, value) index.

Less to write per imported signal: the value is stored once (plus its lookup index) instead
of three times, and no unique index is checked row by row.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AUTOINCREMENT = {"sqlite_autoincrement": True}  # kept when SQLite tables are copied


def upgrade() -> None:
    op.create_table(
        "hg_signals_new",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("entry_id", BigId, nullable=False),
        sa.Column("signal_type", sa.String(32), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("quality", sa.Integer),
    )
    op.execute(
        "INSERT INTO hg_signals_new (entry_id, signal_type, value, quality) "
        "SELECT entry_id, signal_type, value, quality FROM hg_entry_signals "
        "ORDER BY entry_id, signal_type, value"
    )
    op.drop_table("hg_entry_signals")
    op.rename_table("hg_signals_new", "hg_entry_signals")
    op.create_index("ix_hg_entry_signals_entry", "hg_entry_signals", ["entry_id"])
    op.create_index("ix_hg_entry_signals_value", "hg_entry_signals", ["signal_type", "value"])
    if op.get_bind().dialect.name == "postgresql":  # the renamed table's id sequence and key
        op.execute("ALTER SEQUENCE hg_signals_new_id_seq RENAME TO hg_entry_signals_id_seq")
        op.execute("ALTER INDEX hg_signals_new_pkey RENAME TO hg_entry_signals_pkey")

    op.add_column("hg_changes", sa.Column("signal_id", sa.BigInteger))
    op.execute(
        "UPDATE hg_changes SET signal_id = (SELECT s.id FROM hg_entry_signals s "
        "WHERE s.entry_id = hg_changes.entry_id AND s.signal_type = hg_changes.signal_type "
        "AND s.value = hg_changes.value) WHERE value IS NOT NULL"
    )
    with op.batch_alter_table("hg_changes", table_kwargs=AUTOINCREMENT) as batch:
        batch.drop_column("signal_type")
        batch.drop_column("value")


def downgrade() -> None:
    with op.batch_alter_table("hg_changes", table_kwargs=AUTOINCREMENT) as batch:
        batch.add_column(sa.Column("signal_type", sa.String(32)))
        batch.add_column(sa.Column("value", sa.Text))
    op.execute(
        "UPDATE hg_changes SET signal_type = (SELECT s.signal_type FROM hg_entry_signals s "
        "WHERE s.id = hg_changes.signal_id), value = (SELECT s.value FROM hg_entry_signals s "
        "WHERE s.id = hg_changes.signal_id) WHERE signal_id IS NOT NULL"
    )
    with op.batch_alter_table("hg_changes", table_kwargs=AUTOINCREMENT) as batch:
        batch.drop_column("signal_id")
    op.drop_index("ix_hg_entry_signals_entry", "hg_entry_signals")
    with op.batch_alter_table("hg_entry_signals") as batch:
        batch.drop_column("id")
        batch.create_unique_constraint("uq_hg_entry_signals", ["entry_id", "signal_type", "value"])
