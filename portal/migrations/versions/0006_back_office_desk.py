"""back office: staff language, first-password flag, blind index of each child of an IP

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
    op.add_column("ip_children", sa.Column("child_index", sa.String(length=64), nullable=True))
    op.add_column("ip_children", sa.Column("family_hint", sa.String(length=64), nullable=True))
    op.create_index("ix_ip_children_child_index", "ip_children", ["child_index"])
    op.create_index("ix_ip_children_family_hint", "ip_children", ["family_hint"])


def downgrade():
    op.drop_index("ix_ip_children_family_hint", table_name="ip_children")
    op.drop_index("ix_ip_children_child_index", table_name="ip_children")
    op.drop_column("ip_children", "family_hint")
    op.drop_column("ip_children", "child_index")
    op.drop_column("staff_users", "password_must_change")
    op.drop_column("staff_users", "language")
