"""The review console: accounts, sessions, held items, decisions, appeals, kept content
and reveals (see store/tables.py for what each column holds).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")
UNDECIDED = "status IN ('open', 'escalated')"


def _now() -> sa.sql.elements.ColumnElement:  # type: ignore[type-arg]
    return sa.func.now()


def upgrade() -> None:
    op.create_table(
        "hg_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("password", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("settings", sa.Text, nullable=False, server_default="{}"),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.Float),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("disabled_at", sa.DateTime(timezone=True)),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "hg_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("seen_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float),
        sa.Column("address", sa.String(64)),
    )
    op.create_index("ix_hg_sessions_user_id", "hg_sessions", ["user_id"])
    op.create_table(
        "hg_reviews",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("match_id", sa.BigInteger, nullable=False),
        sa.Column("content_key", sa.String(300), nullable=False),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("bank", sa.String(64)),
        sa.Column("category", sa.Text),
        sa.Column("sightings", sa.Integer, nullable=False, server_default="1"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.Integer),
        sa.Column("claim_until", sa.Float),
        sa.Column("decided_by", sa.Integer),
        sa.Column("decided_at", sa.Float),
        sa.Column("classification", sa.String(32)),
        sa.Column("entry", sa.Text),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_hg_reviews_content", "hg_reviews", ["content_key"])
    op.create_index("ix_hg_reviews_queue", "hg_reviews", ["status", "priority", "id"])
    op.create_index("ix_hg_reviews_claimed", "hg_reviews", ["claimed_by"])
    op.create_index(
        "uq_hg_reviews_open", "hg_reviews", ["content_key"], unique=True,
        sqlite_where=sa.text(UNDECIDED), postgresql_where=sa.text(UNDECIDED),
    )  # fmt: skip
    op.create_table(
        "hg_decisions",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("review_id", sa.BigInteger),
        sa.Column("appeal_id", sa.BigInteger),
        sa.Column("content_key", sa.String(300), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("classification", sa.String(32)),
        sa.Column("note", sa.Text),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_hg_decisions_content_key", "hg_decisions", ["content_key"])
    op.create_table(
        "hg_appeals",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("match_id", sa.BigInteger, nullable=False),
        sa.Column("content_key", sa.String(300), nullable=False),
        sa.Column("requester", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.Integer),
        sa.Column("decided_at", sa.Float),
        sa.Column("note", sa.Text),
        sa.Column("entry", sa.Text),
        sa.UniqueConstraint("match_id", name="uq_hg_appeals_match"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_hg_appeals_content_key", "hg_appeals", ["content_key"])
    op.create_table(
        "hg_kept",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("content_key", sa.String(300), nullable=False, unique=True),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "hg_reveals",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("review_id", sa.BigInteger, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_hg_reveals_user", "hg_reveals", ["user_id", "at"])


def downgrade() -> None:
    for name in ("hg_reveals", "hg_kept", "hg_appeals", "hg_decisions", "hg_reviews",
                 "hg_sessions", "hg_users"):  # fmt: skip
        op.drop_table(name)
