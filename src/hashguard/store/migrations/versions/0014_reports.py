"""Authority reports, their files and preserved evidence (see store/tables.py).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")
DRAFT = "status = 'draft'"


def upgrade() -> None:
    op.create_table(
        "hg_reports",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(256)),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("ncmec_id", sa.String(32)),
        sa.Column("environment", sa.String(16)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        sa.Column("submitted_by", sa.String(128)),
        sa.Column("submitted_at", sa.Float),
        sa.Column("preserved_until", sa.Float),
        sa.Column("purged_at", sa.Float),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_hg_reports_status", "hg_reports", ["status", "id"])
    op.create_index(
        "uq_hg_reports_draft",
        "hg_reports",
        ["subject"],
        unique=True,
        sqlite_where=sa.text(DRAFT),
        postgresql_where=sa.text(DRAFT),
    )
    op.create_table(
        "hg_report_files",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("report_id", sa.BigInteger, nullable=False),
        sa.Column("review_id", sa.BigInteger, nullable=False, unique=True),
        sa.Column("match_id", sa.BigInteger, nullable=False),
        sa.Column("content_key", sa.String(300), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("ncmec_file_id", sa.String(64)),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_hg_report_files_report_id", "hg_report_files", ["report_id"])
    op.create_table(
        "hg_evidence",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("report_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.BigInteger, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("until", sa.Float, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_hg_evidence_report_id", "hg_evidence", ["report_id"])
    op.create_index("ix_hg_evidence_until", "hg_evidence", ["until"])


def downgrade() -> None:
    op.drop_table("hg_evidence")
    op.drop_table("hg_report_files")
    op.drop_table("hg_reports")
