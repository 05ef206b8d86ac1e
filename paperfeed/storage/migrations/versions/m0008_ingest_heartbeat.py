"""m0008_ingest_heartbeat: which process runs an ingest, and when it last stored a batch, so a
run whose process was killed is told apart from one still going.

Revision ID: m0008
Revises: m0007
"""

import sqlalchemy as sa
from alembic import op

revision = "m0008"
down_revision = "m0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_runs") as table:
        table.add_column(sa.Column("owner", sa.String(200)))
        table.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("ingest_runs") as table:
        table.drop_column("heartbeat_at")
        table.drop_column("owner")
