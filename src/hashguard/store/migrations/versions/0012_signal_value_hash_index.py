"""Signal values are looked up through a hash index on PostgreSQL (a plain one on SQLite).

A vPDQ value holds every frame of a video (tens of kilobytes): more than a B-tree row may
hold on PostgreSQL (8 kB). A hash index keeps only a 4-byte hash of each value, and the
lookups by value are equality ones; the signal type is checked on the rows found.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_hg_entry_signals_value", table_name="hg_entry_signals")
    op.create_index(
        "ix_hg_entry_signals_value", "hg_entry_signals", ["value"], postgresql_using="hash"
    )


def downgrade() -> None:
    op.drop_index("ix_hg_entry_signals_value", table_name="hg_entry_signals")
    op.create_index("ix_hg_entry_signals_value", "hg_entry_signals", ["signal_type", "value"])
