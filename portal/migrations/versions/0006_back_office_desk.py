"""back office: staff language, first-password flag, blind index of the child on IPs

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE (no batch copy): on SQLite a batch copy would drop and re-create `ips`, and
    # the drop would cascade to its children.
    op.add_column("staff_users", sa.Column("language", sa.String(length=8), nullable=True))
    op.add_column("staff_users", sa.Column("password_must_change", sa.Boolean(), nullable=False,
                                           server_default=sa.false()))
    op.add_column("ips", sa.Column("child_index", sa.String(length=64), nullable=True))
    op.add_column("ips", sa.Column("family_hint", sa.String(length=64), nullable=True))
    op.create_index("ix_ips_child_index", "ips", ["received_by", "child_index"])
    op.create_index("ix_ips_family_hint", "ips", ["received_by", "family_hint"])


def downgrade():
    op.drop_index("ix_ips_family_hint", table_name="ips")
    op.drop_index("ix_ips_child_index", table_name="ips")
    op.drop_column("ips", "family_hint")
    op.drop_column("ips", "child_index")
    op.drop_column("staff_users", "password_must_change")
    op.drop_column("staff_users", "language")
