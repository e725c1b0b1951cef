"""Daily statistics counts and DSA statements of reasons sent (see store/tables.py).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hg_stats",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("bank", sa.String(64), primary_key=True),
        sa.Column("category", sa.String(128), primary_key=True),
        sa.Column("surface", sa.String(64), primary_key=True),
        sa.Column("metric", sa.String(32), primary_key=True),
        sa.Column("n", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "hg_dsa_statements",
        sa.Column("puid", sa.String(500), primary_key=True),
        sa.Column("match_id", sa.BigInteger),
        sa.Column("review_id", sa.BigInteger),
        sa.Column("sent_at", sa.Float, nullable=False),
        sa.Column("uuid", sa.String(64)),
        sa.Column("permalink", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("hg_dsa_statements")
    op.drop_table("hg_stats")
