"""desk digest of each child of an IP: what the queue shows, encrypted for the CRIP's side only

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    # A nullable column, plain ALTER TABLE; existing rows get their digest when the queue first shows them.
    op.add_column("ip_children", sa.Column("desk_digest", sa.LargeBinary(), nullable=True))


def downgrade():
    op.drop_column("ip_children", "desk_digest")
