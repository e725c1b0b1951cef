"""API keys, the audit log, list sources, and deletable banks.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
now = sa.func.now()

_PG_APPEND_ONLY = """
CREATE FUNCTION hg_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'hg_audit is append-only';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER hg_audit_no_update BEFORE UPDATE OR DELETE ON hg_audit
    FOR EACH ROW EXECUTE FUNCTION hg_audit_append_only();
"""

_SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER hg_audit_no_update BEFORE UPDATE ON hg_audit "
    "BEGIN SELECT RAISE(ABORT, 'hg_audit is append-only'); END",
    "CREATE TRIGGER hg_audit_no_delete BEFORE DELETE ON hg_audit "
    "BEGIN SELECT RAISE(ABORT, 'hg_audit is append-only'); END",
)


def upgrade() -> None:
    op.add_column("hg_banks", sa.Column("deleted_at", sa.DateTime(timezone=True)))
    op.add_column("hg_banks", sa.Column("deleted_name", sa.String(64)))
    op.create_table(
        "hg_api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("scopes", sa.String(64), nullable=False),
        sa.Column("rate_limit", sa.Integer),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "hg_audit",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.Text),
        sa.Column("detail", sa.Text),
        sqlite_autoincrement=True,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_APPEND_ONLY)
    else:
        for statement in _SQLITE_APPEND_ONLY:
            op.execute(statement)
    op.create_table(
        "hg_sources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("bank", sa.String(64), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("checkpoint", sa.Text),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_success_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
    )


def downgrade() -> None:
    op.drop_table("hg_sources")
    op.drop_table("hg_audit")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION hg_audit_append_only()")
    op.drop_table("hg_api_keys")
    with op.batch_alter_table("hg_banks") as batch:
        batch.drop_column("deleted_name")
        batch.drop_column("deleted_at")
