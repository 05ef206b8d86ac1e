"""m0004_views: paper views (one per visitor and day) and instance secrets.

Revision ID: m0004
Revises: m0003
"""

import sqlalchemy as sa
from alembic import op

revision = "m0004"
down_revision = "m0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_views",
        sa.Column(
            "paper_id",
            sa.String(64),
            sa.ForeignKey("papers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("visitor", sa.String(32), nullable=False),
        sa.Column("viewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("paper_id", "day", "visitor"),
    )
    op.create_index("ix_paper_views_viewed_at", "paper_views", ["viewed_at"])
    op.create_table(
        "instance_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("instance_secrets")
    op.drop_index("ix_paper_views_viewed_at", "paper_views")
    op.drop_table("paper_views")
