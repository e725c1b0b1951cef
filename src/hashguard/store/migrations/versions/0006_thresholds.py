"""Thresholds per bank and per signal type: ``hg_banks.thresholds``, a JSON object.

Every existing bank keeps its PDQ threshold as ``{"pdq": N}``; ``pdq_threshold`` goes.
(SQLite drops the column in place, 3.35 and later, so the table and the foreign keys
that point at it are not rebuilt.)

Revision ID: 0006
Revises: 0005
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("hg_banks", sa.Column("thresholds", sa.Text, nullable=False, server_default="{}"))
    op.execute(
        """UPDATE hg_banks SET thresholds = '{"pdq": ' || CAST(pdq_threshold AS TEXT) || '}'"""
    )
    op.drop_column("hg_banks", "pdq_threshold")


def downgrade() -> None:
    op.add_column(
        "hg_banks", sa.Column("pdq_threshold", sa.Integer, nullable=False, server_default="31")
    )
    bind = op.get_bind()
    for bank_id, stored in bind.execute(sa.text("SELECT id, thresholds FROM hg_banks")).all():
        pdq = json.loads(stored).get("pdq")
        if pdq is not None:
            bind.execute(
                sa.text("UPDATE hg_banks SET pdq_threshold = :t WHERE id = :i"),
                {"t": int(pdq), "i": bank_id},
            )
    op.drop_column("hg_banks", "thresholds")
