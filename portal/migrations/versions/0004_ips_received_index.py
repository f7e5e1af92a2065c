"""index for "new since your last visit"

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_ips_received", "ips", ["received_by", "received_at"])


def downgrade():
    op.drop_index("ix_ips_received", table_name="ips")
