"""The schema, declared once with SQLAlchemy Core; migrations create exactly these tables.

Lists (authors, categories, versions, sources) are stored as JSON text so SQLite and
PostgreSQL share one code path and bulk loads stay cheap; categories are also kept one row
each in paper_categories so category filters can use an index.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine.interfaces import Dialect

# Row ids are 32-bit on PostgreSQL (SERIAL) and SQLite refuses integers past 64 bits: a number
# outside this range names no row, and handing it to either database is an error, not a miss.
MAX_ROW_ID = 2**31 - 1


def is_row_id(value: object) -> bool:
    """Whether `value` is an int that could be a row id (1 to MAX_ROW_ID)."""
    return type(value) is int and 1 <= value <= MAX_ROW_ID


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Times go in as UTC and come out as aware UTC datetimes, on both databases.

    SQLite has no time zones: SQLAlchemy would store a +05:00 time's wall-clock digits as if
    they were UTC, so every value is converted first (as storage.dialect.bulk_insert does).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


metadata = sa.MetaData()

papers = sa.Table(
    "papers",
    metadata,
    # arXiv id without version ("2104.12255", "hep-th/9901001"), or "local:<hash>".
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer),
    sa.Column("versions", sa.Text, nullable=False, server_default="[]"),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("abstract", sa.Text, nullable=False, server_default=""),
    sa.Column("authors", sa.Text, nullable=False, server_default="[]"),
    sa.Column("categories", sa.Text, nullable=False, server_default="[]"),
    sa.Column("primary_category", sa.String(64)),
    sa.Column("comment", sa.Text),
    sa.Column("journal_ref", sa.Text),
    sa.Column("doi", sa.Text),
    sa.Column("abs_url", sa.Text),
    sa.Column("pdf_url", sa.Text),
    sa.Column("code_url", sa.Text),
    sa.Column("project_url", sa.Text),
    sa.Column("published_at", UtcDateTime()),
    sa.Column("updated_at", UtcDateTime()),
    # Which source's metadata is current, and every source that has seen the paper.
    sa.Column("metadata_source", sa.String(32), nullable=False),
    sa.Column("sources", sa.Text, nullable=False, server_default="[]"),
    sa.Column("first_seen_at", UtcDateTime(), nullable=False),
    sa.Column("last_changed_at", UtcDateTime(), nullable=False),
    sa.Index("ix_papers_published_at", "published_at"),
    sa.Index("ix_papers_last_changed_at", "last_changed_at"),
    sa.Index("ix_papers_first_seen_at", "first_seen_at"),  # m0006: a digest's new papers
)

paper_categories = sa.Table(
    "paper_categories",
    metadata,
    sa.Column(
        "paper_id", sa.String(64), sa.ForeignKey("papers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("paper_id", "category"),
    sa.Index("ix_paper_categories_category", "category"),
    sqlite_with_rowid=False,
)

signals = sa.Table(
    "signals",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column(
        "paper_id", sa.String(64), sa.ForeignKey("papers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("observed_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("paper_id", "source", "kind", "observed_at", name="uq_signals_reading"),
    sa.Index("ix_signals_observed_at", "observed_at"),
)

ingest_runs = sa.Table(
    "ingest_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("checkpoint_key", sa.Text),
    sa.Column("params", sa.Text, nullable=False, server_default="{}"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("finished_at", UtcDateTime()),
    sa.Column("new", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("signals", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    # "host pid" of the process running it, and when it last stored a batch (m0008): a run
    # still "running" whose process is gone was killed.
    sa.Column("owner", sa.String(200)),
    sa.Column("heartbeat_at", UtcDateTime()),
)

ingest_failures = sa.Table(
    "ingest_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "run_id", sa.Integer, sa.ForeignKey("ingest_runs.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("position", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

checkpoints = sa.Table(
    "checkpoints",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

# One vector per (model, paper). text_hash says what was embedded, so a paper is re-embedded
# only when its title or abstract changes (or the model does); paper_changed_at is the paper's
# last_changed_at when it was last checked, so unchanged papers are never read again.
embeddings = sa.Table(
    "embeddings",
    metadata,
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column(
        "paper_id", sa.String(64), sa.ForeignKey("papers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("text_hash", sa.String(32), nullable=False),
    sa.Column("dims", sa.Integer, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),  # little-endian float32
    sa.Column("paper_changed_at", UtcDateTime(), nullable=False),
    sa.Column("embedded_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("model", "paper_id"),
    sa.Index("ix_embeddings_model_embedded_at", "model", "embedded_at"),
)

# A day's trending list, frozen once taken: "trending on 2026-03-01" never changes afterwards.
# One edition row per (day, window, category) says the list was taken (even when empty);
# its entries hold the ranked papers with the parts of their scores.
trending_editions = sa.Table(
    "trending_editions",
    metadata,
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("time_window", sa.String(8), nullable=False),
    sa.Column("category", sa.String(64), nullable=False),  # "" for all categories
    sa.Column("basis", sa.String(16), nullable=False),  # "engagement" or "newest"
    sa.Column("note", sa.Text),
    sa.Column("taken_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("day", "time_window", "category"),
)

trending_entries = sa.Table(
    "trending_entries",
    metadata,
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("time_window", sa.String(8), nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("paper_id", sa.String(64), nullable=False),  # no foreign key: the past stays
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("parts", sa.Text, nullable=False),  # JSON list of score parts
    sa.PrimaryKeyConstraint("day", "time_window", "category", "position"),
    sa.ForeignKeyConstraint(
        ["day", "time_window", "category"],
        ["trending_editions.day", "trending_editions.time_window", "trending_editions.category"],
        ondelete="CASCADE",
    ),
)

# One row per paper, visitor and day: a view counts once a day per visitor. The visitor is a
# keyed hash of the client (address + user agent + day), never the address itself.
paper_views = sa.Table(
    "paper_views",
    metadata,
    sa.Column(
        "paper_id", sa.String(64), sa.ForeignKey("papers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("visitor", sa.String(32), nullable=False),
    sa.Column("viewed_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("paper_id", "day", "visitor"),
    sa.Index("ix_paper_views_viewed_at", "viewed_at"),
)

# Random keys made on first use and shared by every process on this database.
instance_secrets = sa.Table(
    "instance_secrets",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(128), nullable=False),
)

# People who signed in with an email link. The address is stored lower-cased: one account each.
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

# Sign-in links and sessions keep only a SHA-256 of their secret: a copy of the database signs
# nobody in. A link is single use (used_at) and short-lived (expires_at).
sign_in_tokens = sa.Table(
    "sign_in_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("used_at", UtcDateTime()),
    sa.Index("ix_sign_in_tokens_expires_at", "expires_at"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Index("ix_sessions_user_id", "user_id"),
)

# Fixed-window counters ("sign-in mail to this address in this 10-minute window"), kept in the
# database so a limit holds across every web process.
rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("window_start", UtcDateTime(), nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("key", "window_start"),
    sa.Index("ix_rate_limits_window_start", "window_start"),
)

# A user's upvotes and saved papers: one row each, with when, so trending can count them as
# fresh engagement. No foreign key to papers on saves: a library outlives a removed paper.
upvotes = sa.Table(
    "upvotes",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "paper_id", sa.String(64), sa.ForeignKey("papers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("user_id", "paper_id"),
    sa.Index("ix_upvotes_paper_id", "paper_id"),
    sa.Index("ix_upvotes_created_at", "created_at"),
)

saves = sa.Table(
    "saves",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("paper_id", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("user_id", "paper_id"),
    sa.Index("ix_saves_paper_id", "paper_id"),
    sa.Index("ix_saves_created_at", "created_at"),
)

collections = sa.Table(
    "collections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("user_id", "name", name="uq_collections_user_name"),
)

collection_papers = sa.Table(
    "collection_papers",
    metadata,
    sa.Column(
        "collection_id",
        sa.Integer,
        sa.ForeignKey("collections.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("paper_id", sa.String(64), nullable=False),
    sa.Column("added_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("collection_id", "paper_id"),
)

# Digest subscribers. status: pending (not yet confirmed: gets nothing but the confirmation),
# confirmed, or unsubscribed. A hard bounce sets suppressed_at, which outranks every status.
# link_key is mixed into every signed link of this subscriber; changing it revokes them all.
subscribers = sa.Table(
    "subscribers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("topics", sa.Text, nullable=False, server_default="{}"),  # JSON
    sa.Column("frequency", sa.String(8), nullable=False, server_default="daily"),
    sa.Column("send_hour", sa.Integer, nullable=False, server_default="7"),
    sa.Column("time_zone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("paper_count", sa.Integer, nullable=False, server_default="10"),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
    sa.Column("link_key", sa.String(32), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("confirmed_at", UtcDateTime()),
    sa.Column("unsubscribed_at", UtcDateTime()),
    sa.Column("suppressed_at", UtcDateTime()),
    sa.Column("suppressed_reason", sa.Text),
    sa.Index("ix_subscribers_status", "status"),
)

# One row per (edition day, subscriber): claimed before sending, marked sent after the
# server's 250, so a crashed run resumes where it stopped and a rerun sends nothing twice.
# status: pending, claimed, sent, retry (a 4xx: next_attempt_at), failed, bounced, skipped.
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("edition_day", sa.Date, nullable=False),
    sa.Column(
        "subscriber_id",
        sa.Integer,
        sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("claimed_by", sa.String(128)),
    sa.Column("claim_expires_at", UtcDateTime()),
    sa.Column("next_attempt_at", UtcDateTime()),
    sa.Column("sent_at", UtcDateTime()),
    sa.Column("message_id", sa.String(255)),
    sa.Column("papers", sa.Text, nullable=False, server_default="[]"),  # JSON ids sent
    sa.Column("note", sa.Text),
    sa.PrimaryKeyConstraint("edition_day", "subscriber_id"),
    sa.Index("ix_deliveries_status", "edition_day", "status"),
    sa.Index("ix_deliveries_subscriber_id", "subscriber_id"),  # removing a subscriber
)

# Every paper a subscriber was ever sent: a paper goes to a subscriber at most once.
sent_papers = sa.Table(
    "sent_papers",
    metadata,
    sa.Column(
        "subscriber_id",
        sa.Integer,
        sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("paper_id", sa.String(64), nullable=False),
    sa.Column("edition_day", sa.Date, nullable=False),
    sa.PrimaryKeyConstraint("subscriber_id", "paper_id"),
)

# 👍 (+1) / 👎 (-1) from the signed links in a digest; the latest vote per paper counts.
digest_feedback = sa.Table(
    "digest_feedback",
    metadata,
    sa.Column(
        "subscriber_id",
        sa.Integer,
        sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("paper_id", sa.String(64), nullable=False),
    sa.Column("vote", sa.Integer, nullable=False),
    sa.Column("voted_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("subscriber_id", "paper_id"),
)

# Scheduled jobs of `paperfeed worker` ("ingest" and "snapshot" for a day): whichever worker
# claims a (name, day) first runs it; a lease that runs out lets another take over.
worker_jobs = sa.Table(
    "worker_jobs",
    metadata,
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # running, done, failed
    sa.Column("claimed_by", sa.String(128)),
    sa.Column("lease_until", UtcDateTime()),
    sa.Column("finished_at", UtcDateTime()),
    sa.Column("note", sa.Text),
    sa.PrimaryKeyConstraint("name", "day"),
)

# Mail a visitor's request asks for (sign-in links, subscription confirmations and reminders),
# written in the request's transaction and sent afterwards by a drainer (mail/outbox.py), so
# every answer takes the same path and a mail server that is down loses nothing. `message` is
# the whole RFC 5322 message, NULL when there is nothing to send (a silent path still writes its
# row) and cleared once the row is finished, because it holds a live link.
# status: pending, claimed, retry (next_attempt_at), sent, failed, expired, skipped.
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("message", sa.LargeBinary),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),  # undelivered by then: useless
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UtcDateTime()),
    sa.Column("claimed_by", sa.String(128)),
    sa.Column("claim_expires_at", UtcDateTime()),
    sa.Column("finished_at", UtcDateTime()),
    sa.Column("note", sa.Text),
    sa.Index("ix_outbox_status", "status", "next_attempt_at"),
)
