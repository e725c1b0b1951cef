"""The match log (one row per kept verdict) and the outbox (one event per acted verdict),
written in one transaction before the verdict is answered.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    now = sa.func.now()
    op.create_table(
        "hg_match_log",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("shadow", sa.String(8)),
        sa.Column("retroactive", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("policy_version", sa.Integer, nullable=False),
        sa.Column("list_seq", sa.BigInteger, nullable=False),
        sa.Column("content_key", sa.String(300), nullable=False),
        sa.Column("content_id", sa.String(256)),
        sa.Column("chat_id", sa.String(256)),
        sa.Column("uploader_id", sa.String(256)),
        sa.Column("surface", sa.String(64)),
        sa.Column("event_time", sa.String(40)),
        sa.Column("matches", sa.Text, nullable=False),  # JSON
        sa.Column("reasons", sa.Text, nullable=False),  # JSON
        sa.Column("signals", sa.Text, nullable=False),  # JSON: the item's hashes
        sqlite_autoincrement=True,
    )
    op.create_index("ix_hg_match_log_content_key", "hg_match_log", ["content_key"])
    op.create_table(
        "hg_outbox",
        sa.Column("id", BigId, primary_key=True),  # delivery order
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("match_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("content_key", sa.String(300), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),  # JSON: what a webhook receives
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("hg_outbox")
    op.drop_index("ix_hg_match_log_content_key", "hg_match_log")
    op.drop_table("hg_match_log")
