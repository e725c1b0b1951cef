"""Banks choose what match-scope keys see of their entries: ``hg_banks.match_fields``.

NULL (every bank made before) means the default: category and severity, never the note or
the list's other columns.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("hg_banks", sa.Column("match_fields", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("hg_banks") as batch:
        batch.drop_column("match_fields")
