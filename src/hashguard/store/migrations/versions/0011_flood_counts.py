"""Flood-guard counts, shared by every process: actions per rule per hour and per day.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hg_flood_counts",
        sa.Column("key", sa.String(200), primary_key=True),  # rule:window:index
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("until", sa.Float, nullable=False),  # unix time the window ends
    )


def downgrade() -> None:
    op.drop_table("hg_flood_counts")
