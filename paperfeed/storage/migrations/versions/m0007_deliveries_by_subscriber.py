"""m0007_deliveries_by_subscriber: an index on deliveries.subscriber_id, so removing a
subscriber (whose deliveries go with it) does not scan the whole ledger.

Revision ID: m0007
Revises: m0006
"""

from alembic import op

revision = "m0007"
down_revision = "m0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deliveries_subscriber_id", "deliveries", ["subscriber_id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_subscriber_id", "deliveries")
