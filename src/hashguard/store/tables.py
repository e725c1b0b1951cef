"""The SQL schema. Alembic migrations in ``migrations/`` create and evolve it.

There are no foreign-key constraints: PostgreSQL checks them row by row with triggers, which
halved bulk-import speed in our measurements. Rows are never deleted, and only the Store
writes them, always inside one transaction per change.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)

# SQLite only makes INTEGER PRIMARY KEY an alias of its rowid (fast, autoincrementing).
BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

meta = Table(
    "hg_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

banks = Table(
    "hg_banks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    # JSON object: the match threshold this bank sets per signal type (banks/model.py)
    Column("thresholds", Text, nullable=False, server_default="{}"),
    Column("enabled", Boolean, nullable=False, default=True),
    # JSON list of the entry fields match-scope keys see; NULL: the default (banks/model.py)
    Column("match_fields", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # A deleted bank keeps its rows (what was listed, and when, stays answerable) under the
    # name "#<id>", so the name can be used again; its real name moves here.
    Column("deleted_at", DateTime(timezone=True)),
    Column("deleted_name", String(64)),
)

entries = Table(
    "hg_entries",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("bank_id", Integer, nullable=False),
    Column("source_id", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("category", Text),
    Column("severity", Text),
    Column("note", Text),
    Column("extra", Text),  # JSON object of the list's other columns
    UniqueConstraint("bank_id", "source_id", name="uq_hg_entries_bank_source"),
)

# Unique per (entry, type, value): the importer adds only signals an entry lacks, deduplicated
# set-based, so no unique index has to be kept up to date row by row.
entry_signals = Table(
    "hg_entry_signals",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("entry_id", BigId, nullable=False),
    Column("signal_type", String(32), nullable=False),
    Column("value", Text, nullable=False),
    Column("quality", Integer),
    Index("ix_hg_entry_signals_entry", "entry_id"),
    # A hash index on PostgreSQL: a vPDQ value is larger than a B-tree row may be (0012).
    Index("ix_hg_entry_signals_value", "value", postgresql_using="hash"),
)

# The change log: one increasing sequence over every bank. Indexes and replicas tail it.
# An added or retracted signal refers to its row in hg_entry_signals (never deleted).
changes = Table(
    "hg_changes",
    metadata,
    Column("seq", BigId, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("bank_id", Integer, nullable=False),
    Column("entry_id", BigInteger),
    Column("signal_id", BigInteger),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    sqlite_autoincrement=True,  # never reuse a sequence number
)

# API keys, stored only as SHA-256 hashes of the key (keys are random, so no salt is needed).
api_keys = Table(
    "hg_api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),  # shown in listings to tell keys apart
    Column("scopes", String(64), nullable=False),  # comma-separated
    Column("rate_limit", Integer),  # requests per second; None: the server's default
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("revoked_at", DateTime(timezone=True)),
    sqlite_autoincrement=True,
)

# Who changed what, when. Append-only: migrations 0002 and 0005 add triggers that refuse
# updates, deletes and (PostgreSQL) TRUNCATE, so not even a bug in hashguard can rewrite history.
audit = Table(
    "hg_audit",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", Text),
    Column("detail", Text),  # JSON object
    sqlite_autoincrement=True,
)

# Policies, versioned (each set is a new row, the newest in force); see hashguard.policy.
policies = Table(
    "hg_policies",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("document", Text, nullable=False),  # JSON: the policy as Policy.as_dict() gives it
    Column("actor", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    sqlite_autoincrement=True,
)

# Kept verdicts (anything but a plain allow) and the outbox event of each acted one, written
# in one transaction before the verdict is answered (hashguard.actions). Hashes and
# pseudonymous ids only.
match_log = Table(
    "hg_match_log",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("verdict", String(8), nullable=False),
    Column("shadow", String(8)),
    Column("retroactive", Boolean, nullable=False, default=False),
    Column("policy_version", Integer, nullable=False),
    Column("list_seq", BigInteger, nullable=False),
    Column("content_key", String(300), nullable=False, index=True),
    Column("content_id", String(256)),
    Column("chat_id", String(256)),
    Column("uploader_id", String(256)),
    Column("surface", String(64)),
    Column("event_time", String(40)),
    Column("matches", Text, nullable=False),  # JSON
    Column("reasons", Text, nullable=False),  # JSON
    Column("signals", Text, nullable=False),  # JSON
    sqlite_autoincrement=True,
)
outbox = Table(
    "hg_outbox",
    metadata,
    Column("id", BigId, primary_key=True),  # delivery order
    Column("event_id", String(36), nullable=False, unique=True),
    Column("match_id", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("content_key", String(300), nullable=False),
    Column("payload", Text, nullable=False),  # JSON: what a webhook receives
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    sqlite_autoincrement=True,
)

# Webhook endpoints (their secrets are needed to sign, so they are kept as given: the
# database is as secret as the lists) and each one's deliveries of outbox events.
webhooks = Table(
    "hg_webhooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    Column("events", String(64), nullable=False),  # comma-separated
    Column("secrets", Text, nullable=False),  # JSON list, newest first
    Column("enabled", Boolean, nullable=False, default=True),
    Column("cursor", BigInteger, nullable=False, default=0),  # last outbox id fanned out
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
deliveries = Table(
    "hg_deliveries",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("webhook_id", Integer, nullable=False),
    Column("outbox_id", BigInteger, nullable=False),
    Column("content_key", String(300), nullable=False),
    Column("status", String(12), nullable=False),  # pending, delivered, dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_at", Float, nullable=False),  # unix time of the next attempt
    Column("last_error", Text),
    Column("delivered_at", Float),
    UniqueConstraint("webhook_id", "outbox_id", name="uq_hg_deliveries"),
    Index("ix_hg_deliveries_status", "status", "webhook_id"),
    sqlite_autoincrement=True,
)

# The seen log: every checked item, written in batches off the request path. Partitioned
# by day on PostgreSQL (migration 0010 makes it; partitions are made as days come).
seen = Table(
    "hg_seen",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("day", Date, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("verdict", String(8), nullable=False),
    Column("match_id", BigInteger),
    # where the indexes stood when it was checked: retroactive matching acts only on
    # sightings checked before an entry was applied (later ones were matched live)
    Column("list_seq", BigInteger, nullable=False),
    Column("content_key", String(300), nullable=False),
    Column("content_id", String(256)),
    Column("chat_id", String(256)),
    Column("uploader_id", String(256)),
    Column("surface", String(64)),
    Column("event_time", String(40)),
    Column("md5", String(32)),
    Column("sha256", String(64)),
    Column("pdq", String(64)),
    Column("signals", Text, nullable=False),  # JSON: every hash of the item
)

# The flood guard's counts (hashguard.policy.decide), shared by every process: one row per
# rule and window ("name:3600:493827"), counted up atomically while under the rule's cap.
flood_counts = Table(
    "hg_flood_counts",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("n", Integer, nullable=False),
    Column("until", Float, nullable=False),  # unix time the window ends
)

# Upstream lists a bank is synced from, with the checkpoint that makes a sync resumable.
sources = Table(
    "hg_sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("bank", String(64), nullable=False),
    Column("url", Text, nullable=False),
    Column("settings", Text, nullable=False),  # JSON object: keys, credentials file, ...
    Column("checkpoint", Text),  # JSON, written in the transaction that applies a batch
    Column("enabled", Boolean, nullable=False, default=True),
    Column("last_attempt_at", DateTime(timezone=True)),
    Column("last_success_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# The review console (hashguard.review, hashguard.console). Reviewer accounts: passwords as
# argon2id hashes; repeated failures lock the account for a while (access/accounts.py).
users = Table(
    "hg_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password", Text, nullable=False),  # argon2id, with its parameters and salt
    Column("role", String(16), nullable=False),  # reviewer, lead, admin
    Column("settings", Text, nullable=False, server_default="{}"),  # JSON: preview choices
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", Float),  # unix time
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("disabled_at", DateTime(timezone=True)),
    sqlite_autoincrement=True,
)
# Server-side sessions, by the SHA-256 of the cookie's token (a database leak gives no
# session away); each holds its CSRF token.
sessions = Table(
    "hg_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("seen_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("revoked_at", Float),
    Column("address", String(64)),
)
UNDECIDED = "status IN ('open', 'escalated')"

# Held items: one open item per content, however often it was held (``sightings``),
# ordered by ``priority`` then age (hashguard.review.model).
reviews = Table(
    "hg_reviews",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("match_id", BigInteger, nullable=False),  # the first match-log row held
    Column("content_key", String(300), nullable=False),
    Column("verdict", String(8), nullable=False),  # review or report
    Column("priority", Integer, nullable=False),
    Column("bank", String(64)),  # of the first match: what the queue filters by
    Column("category", Text),
    Column("sightings", Integer, nullable=False, default=1),
    # open, escalated, confirmed, false_positive
    Column("status", String(16), nullable=False),
    Column("claimed_by", Integer),
    Column("claim_until", Float),  # unix time
    Column("decided_by", Integer),
    Column("decided_at", Float),
    Column("classification", String(32)),
    Column("entry", Text),  # bank/entry id the decision added, undone by an undo
    Index("ix_hg_reviews_content", "content_key"),
    Index("ix_hg_reviews_queue", "status", "priority", "id"),
    Index("ix_hg_reviews_claimed", "claimed_by"),
    # one undecided item per content: a second holding only counts as a sighting
    Index(
        "uq_hg_reviews_open",
        "content_key",
        unique=True,
        sqlite_where=text(UNDECIDED),
        postgresql_where=text(UNDECIDED),
    ),
    sqlite_autoincrement=True,
)
# Every decision on a held item or an appeal, undos included: the item page's history.
decisions = Table(
    "hg_decisions",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("at", Float, nullable=False),
    Column("review_id", BigInteger),
    Column("appeal_id", BigInteger),
    Column("content_key", String(300), nullable=False, index=True),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("classification", String(32)),
    Column("note", Text),
    sqlite_autoincrement=True,
)
appeals = Table(
    "hg_appeals",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("match_id", BigInteger, nullable=False),
    Column("content_key", String(300), nullable=False, index=True),
    Column("requester", String(128), nullable=False),  # the API key that filed it
    Column("reason", Text),
    Column("status", String(16), nullable=False),  # open, upheld, overturned
    Column("decided_by", Integer),
    Column("decided_at", Float),
    Column("note", Text),
    Column("entry", Text),  # the suppress-bank entry an overturn added
    UniqueConstraint("match_id", name="uq_hg_appeals_match"),
    sqlite_autoincrement=True,
)
# Content kept for review (opt-in by policy): AES-256-GCM, the key named by ``key_id``.
kept = Table(
    "hg_kept",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("content_key", String(300), nullable=False, unique=True),
    Column("media_type", String(64), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("sealed", LargeBinary, nullable=False),  # nonce + ciphertext + tag
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    sqlite_autoincrement=True,
)
# Each reveal of a preview: what the exposure limits count.
reveals = Table(
    "hg_reveals",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("user_id", Integer, nullable=False),
    Column("review_id", BigInteger, nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_hg_reveals_user", "user_id", "at"),
    sqlite_autoincrement=True,
)

# Authority reports (hashguard.reports): drafted when a held item with a report verdict is
# confirmed, one draft per reported user gathering that user's files; edited by leads,
# then submitted to NCMEC's CyberTipline. ``document`` is the report's own part (JSON in
# the CyberTipline's shape); each file's part is its row in hg_report_files.
reports = Table(
    "hg_reports",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    # draft, submitting, submitted, failed, withdrawn (its last file's decision undone)
    Column("status", String(16), nullable=False),
    Column("subject", String(256)),  # the reported user (uploader id); NULL: one item alone
    Column("document", Text, nullable=False),  # JSON
    Column("ncmec_id", String(32)),  # the CyberTipline's report id, once it gave one
    Column("environment", String(16)),  # test or production: where it went
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),  # why the last attempt failed
    Column("submitted_by", String(128)),
    Column("submitted_at", Float),
    Column("preserved_until", Float),  # its evidence is kept until then (hg_evidence)
    Column("purged_at", Float),  # the legal period ended: the document and evidence deleted
    Index("ix_hg_reports_status", "status", "id"),
    # one draft per user: the next confirmed file of theirs joins it
    Index(
        "uq_hg_reports_draft",
        "subject",
        unique=True,
        sqlite_where=text("status = 'draft'"),
        postgresql_where=text("status = 'draft'"),
    ),
    sqlite_autoincrement=True,
)
report_files = Table(
    "hg_report_files",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("report_id", BigInteger, nullable=False, index=True),
    Column("review_id", BigInteger, nullable=False, unique=True),  # one report per item
    Column("match_id", BigInteger, nullable=False),
    Column("content_key", String(300), nullable=False),
    Column("details", Text, nullable=False),  # JSON: the file's fileDetails
    Column("ncmec_file_id", String(64)),  # once uploaded to the report
    sqlite_autoincrement=True,
)
# A submitted report's evidence, copied when it was submitted (the REPORT Act's preservation):
# its match-log and seen-log rows, decisions and appeals, kept apart from the logs' own
# retention (and from the seen log's day partitions, which are dropped whole) until
# ``until``.
evidence = Table(
    "hg_evidence",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("report_id", BigInteger, nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # match, seen, decision, appeal
    Column("ref", BigInteger, nullable=False),  # the row's id where it came from
    Column("payload", Text, nullable=False),  # JSON: the row as it stood
    Column("until", Float, nullable=False, index=True),
    sqlite_autoincrement=True,
)
# Counts for transparency statistics that must outlive the logs they come from
# (hashguard.store.stats_table): ``checked`` is counted as the seen log is written; the
# match log's figures are frozen here, whole days, before its purge deletes their rows.
# ``bank``, ``category`` and ``surface`` are '' where they do not apply or were not given.
stats = Table(
    "hg_stats",
    metadata,
    Column("day", Date, primary_key=True),
    Column("bank", String(64), primary_key=True),
    Column("category", String(128), primary_key=True),
    Column("surface", String(64), primary_key=True),
    Column("metric", String(32), primary_key=True),
    Column("n", BigInteger, nullable=False),
)
# DSA statements of reasons the Transparency Database accepted, by their platform unique
# id (puid): what makes sending them again a no-op (hashguard.reports.dsa).
dsa_statements = Table(
    "hg_dsa_statements",
    metadata,
    Column("puid", String(500), primary_key=True),
    Column("match_id", BigInteger),
    Column("review_id", BigInteger),
    Column("sent_at", Float, nullable=False),
    Column("uuid", String(64)),
    Column("permalink", Text),
)
