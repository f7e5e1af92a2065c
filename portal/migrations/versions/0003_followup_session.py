"""follow-up session nonce

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("followups") as batch_op:
        batch_op.add_column(sa.Column("session_nonce", sa.String(length=43), nullable=True))


def downgrade():
    with op.batch_alter_table("followups") as batch_op:
        batch_op.drop_column("session_nonce")
