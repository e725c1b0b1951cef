"""Banks, entries, their signals and the change log.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
now = sa.func.now()


def upgrade() -> None:
    op.create_table(
        "hg_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "hg_banks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("pdq_threshold", sa.Integer, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
    )
    op.create_table(
        "hg_entries",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("bank_id", sa.Integer, nullable=False),
        sa.Column("source_id", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("category", sa.Text),
        sa.Column("severity", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("extra", sa.Text),
        sa.UniqueConstraint("bank_id", "source_id", name="uq_hg_entries_bank_source"),
    )
    op.create_table(
        "hg_entry_signals",
        sa.Column("entry_id", BigId, nullable=False),
        sa.Column("signal_type", sa.String(32), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("quality", sa.Integer),
        sa.UniqueConstraint("entry_id", "signal_type", "value", name="uq_hg_entry_signals"),
    )
    op.create_index("ix_hg_entry_signals_value", "hg_entry_signals", ["signal_type", "value"])
    op.create_table(
        "hg_changes",
        sa.Column("seq", BigId, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("bank_id", sa.Integer, nullable=False),
        sa.Column("entry_id", sa.BigInteger),
        sa.Column("signal_type", sa.String(32)),
        sa.Column("value", sa.Text),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    for table in ("hg_changes", "hg_entry_signals", "hg_entries", "hg_banks", "hg_meta"):
        op.drop_table(table)
