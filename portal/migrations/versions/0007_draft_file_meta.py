"""draft files: name and type encrypted apart from the content, so listing them reads no content

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("draft_files") as batch:
        batch.add_column(sa.Column("meta", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("draft_files") as batch:
        batch.drop_column("meta")
