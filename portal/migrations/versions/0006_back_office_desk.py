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
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("password_must_change", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table("ips") as batch_op:
        batch_op.add_column(sa.Column("child_index", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("family_hint", sa.String(length=64), nullable=True))
    op.create_index("ix_ips_child_index", "ips", ["received_by", "child_index"])
    op.create_index("ix_ips_family_hint", "ips", ["received_by", "family_hint"])


def downgrade():
    op.drop_index("ix_ips_family_hint", table_name="ips")
    op.drop_index("ix_ips_child_index", table_name="ips")
    with op.batch_alter_table("ips") as batch_op:
        batch_op.drop_column("family_hint")
        batch_op.drop_column("child_index")
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.drop_column("password_must_change")
        batch_op.drop_column("language")
