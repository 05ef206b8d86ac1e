"""m0006_digests: digest subscribers, the delivery ledger, papers sent, 👍/👎 feedback, the
worker's daily jobs, and an index on when papers were first seen (a digest's new papers).

Revision ID: m0006
Revises: m0005
"""

import sqlalchemy as sa
from alembic import op

revision = "m0006"
down_revision = "m0005"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def _subscriber_id() -> sa.Column[int]:
    return sa.Column(
        "subscriber_id",
        sa.Integer,
        sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_index("ix_papers_first_seen_at", "papers", ["first_seen_at"])
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("topics", sa.Text, nullable=False, server_default="{}"),
        sa.Column("frequency", sa.String(8), nullable=False, server_default="daily"),
        sa.Column("send_hour", sa.Integer, nullable=False, server_default="7"),
        sa.Column("time_zone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("paper_count", sa.Integer, nullable=False, server_default="10"),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("link_key", sa.String(32), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("confirmed_at", TIME),
        sa.Column("unsubscribed_at", TIME),
        sa.Column("suppressed_at", TIME),
        sa.Column("suppressed_reason", sa.Text),
    )
    op.create_index("ix_subscribers_status", "subscribers", ["status"])
    op.create_table(
        "deliveries",
        sa.Column("edition_day", sa.Date, nullable=False),
        _subscriber_id(),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("claimed_by", sa.String(128)),
        sa.Column("claim_expires_at", TIME),
        sa.Column("next_attempt_at", TIME),
        sa.Column("sent_at", TIME),
        sa.Column("message_id", sa.String(255)),
        sa.Column("papers", sa.Text, nullable=False, server_default="[]"),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("edition_day", "subscriber_id"),
    )
    op.create_index("ix_deliveries_status", "deliveries", ["edition_day", "status"])
    op.create_table(
        "sent_papers",
        _subscriber_id(),
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column("edition_day", sa.Date, nullable=False),
        sa.PrimaryKeyConstraint("subscriber_id", "paper_id"),
    )
    op.create_table(
        "digest_feedback",
        _subscriber_id(),
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column("vote", sa.Integer, nullable=False),
        sa.Column("voted_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("subscriber_id", "paper_id"),
    )

    op.create_table(
        "worker_jobs",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.String(128)),
        sa.Column("lease_until", TIME),
        sa.Column("finished_at", TIME),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("name", "day"),
    )


def downgrade() -> None:
    for table in ("worker_jobs", "digest_feedback", "sent_papers", "deliveries", "subscribers"):
        op.drop_table(table)
    op.drop_index("ix_papers_first_seen_at", "papers")
