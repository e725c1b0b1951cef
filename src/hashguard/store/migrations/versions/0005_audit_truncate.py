"""The audit log refuses TRUNCATE too on PostgreSQL (0002's row triggers never see it).

SQLite has no TRUNCATE statement (``DELETE FROM`` without a WHERE clause fires the row
triggers of 0002), so this revision changes nothing there.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The function of 0002 raises whatever the trigger's level; a statement-level trigger is
# the only kind PostgreSQL fires on TRUNCATE.
_PG_NO_TRUNCATE = (
    "CREATE TRIGGER hg_audit_no_truncate BEFORE TRUNCATE ON hg_audit "
    "FOR EACH STATEMENT EXECUTE FUNCTION hg_audit_append_only()"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_NO_TRUNCATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER hg_audit_no_truncate ON hg_audit")
