"""The seen log: every checked item's hashes and context, written off the request path.
On PostgreSQL it is partitioned by day, so a purge drops whole days; on SQLite, a table with
an index on the day.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_COLUMNS = """
    id BIGINT NOT NULL,
    day DATE NOT NULL,
    at TIMESTAMP WITH TIME ZONE NOT NULL,
    verdict VARCHAR(8) NOT NULL,
    match_id BIGINT,
    list_seq BIGINT NOT NULL,
    content_key VARCHAR(300) NOT NULL,
    content_id VARCHAR(256),
    chat_id VARCHAR(256),
    uploader_id VARCHAR(256),
    surface VARCHAR(64),
    event_time VARCHAR(40),
    md5 VARCHAR(32),
    sha256 VARCHAR(64),
    pdq VARCHAR(64),
    signals TEXT NOT NULL
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE hg_seen_id_seq")
        op.execute(
            f"CREATE TABLE hg_seen ({_COLUMNS}, PRIMARY KEY (day, id)) PARTITION BY RANGE (day)"
        )
        op.execute("ALTER TABLE hg_seen ALTER COLUMN id SET DEFAULT nextval('hg_seen_id_seq')")
    else:
        op.create_table(
            "hg_seen",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("day", sa.Date, nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("verdict", sa.String(8), nullable=False),
            sa.Column("match_id", sa.BigInteger),
            sa.Column("list_seq", sa.BigInteger, nullable=False),
            sa.Column("content_key", sa.String(300), nullable=False),
            sa.Column("content_id", sa.String(256)),
            sa.Column("chat_id", sa.String(256)),
            sa.Column("uploader_id", sa.String(256)),
            sa.Column("surface", sa.String(64)),
            sa.Column("event_time", sa.String(40)),
            sa.Column("md5", sa.String(32)),
            sa.Column("sha256", sa.String(64)),
            sa.Column("pdq", sa.String(64)),
            sa.Column("signals", sa.Text, nullable=False),
            sqlite_autoincrement=True,
        )
        op.create_index("ix_hg_seen_day", "hg_seen", ["day"])
    op.create_index("ix_hg_seen_content_key", "hg_seen", ["content_key"])
    op.create_index("ix_hg_seen_sha256", "hg_seen", ["sha256"])
    op.create_index("ix_hg_seen_md5", "hg_seen", ["md5"])


def downgrade() -> None:
    op.drop_table("hg_seen")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE hg_seen_id_seq")
