"""m0003_trending: daily trending snapshots (editions and their ranked entries).

Revision ID: m0003
Revises: m0002
"""

import sqlalchemy as sa
from alembic import op

revision = "m0003"
down_revision = "m0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trending_editions",
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("time_window", sa.String(8), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("basis", sa.String(16), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", "time_window", "category"),
    )
    op.create_table(
        "trending_entries",
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("time_window", sa.String(8), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("paper_id", sa.String(64), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("parts", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("day", "time_window", "category", "position"),
        sa.ForeignKeyConstraint(
            ["day", "time_window", "category"],
            [
                "trending_editions.day",
                "trending_editions.time_window",
                "trending_editions.category",
            ],
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("trending_entries")
    op.drop_table("trending_editions")
