"""Webhook endpoints and their deliveries of outbox events.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "hg_webhooks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("events", sa.String(64), nullable=False),  # comma-separated
        sa.Column("secrets", sa.Text, nullable=False),  # JSON list, newest first
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("cursor", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )  # fmt: skip
    op.create_table(
        "hg_deliveries",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("webhook_id", sa.Integer, nullable=False),
        sa.Column("outbox_id", sa.BigInteger, nullable=False),
        sa.Column("content_key", sa.String(300), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),  # pending, delivered, dead
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_at", sa.Float, nullable=False),  # unix time of the next attempt
        sa.Column("last_error", sa.Text),
        sa.Column("delivered_at", sa.Float),
        sa.UniqueConstraint("webhook_id", "outbox_id", name="uq_hg_deliveries"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_hg_deliveries_status", "hg_deliveries", ["status", "webhook_id"])


def downgrade() -> None:
    op.drop_index("ix_hg_deliveries_status", "hg_deliveries")
    op.drop_table("hg_deliveries")
    op.drop_table("hg_webhooks")
