"""m0002_embeddings: stored paper vectors, and an index on papers.last_changed_at.

Search indexes are derived from the database and catch up from last_changed_at, so that
column needs an index; the vectors themselves are durable here so an index can be rebuilt
without re-running the model.

Revision ID: m0002
Revises: m0001
"""

import sqlalchemy as sa
from alembic import op

revision = "m0002"
down_revision = "m0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_papers_last_changed_at", "papers", ["last_changed_at"])
    op.create_table(
        "embeddings",
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column(
            "paper_id",
            sa.String(64),
            sa.ForeignKey("papers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("text_hash", sa.String(32), nullable=False),
        sa.Column("dims", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("paper_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("embedded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model", "paper_id"),
    )
    op.create_index("ix_embeddings_model_embedded_at", "embeddings", ["model", "embedded_at"])


def downgrade() -> None:
    op.drop_table("embeddings")
    op.drop_index("ix_papers_last_changed_at", "papers")
