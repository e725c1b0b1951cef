"""Policies, versioned: each one set is a new row; the newest is in force. A change-log row
of kind ``policy`` (bank 0) tells every follower to reload it.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hg_policies",
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sqlite_autoincrement=True,
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("hg_policies")
