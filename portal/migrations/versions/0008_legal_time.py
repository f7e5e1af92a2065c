"""legal time and routing between CRIPs: received via, the sender's signalement, feedback due and given,
written notice to the parents, transfer stubs

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ips") as batch:
        batch.add_column(sa.Column("received_via", sa.String(length=3), nullable=True))
        batch.add_column(sa.Column("sender_signalement", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("feedback_due", sa.Date(), nullable=True))
        batch.add_column(sa.Column("feedback_given_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("parents_notified_on", sa.Date(), nullable=True))
    op.create_index("ix_ips_feedback", "ips", ["received_by", "feedback_due"])
    op.create_table(
        "ip_transfers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("from_departement", sa.String(length=3), nullable=False),
        sa.Column("to_departement", sa.String(length=3), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
    )
    op.create_index("ix_ip_transfers_reference", "ip_transfers", ["reference"])
    op.create_index("ix_ip_transfers_from_departement", "ip_transfers", ["from_departement"])
    # IPs stored before this revision have no feedback due date: the application sets it for new ones.


def downgrade():
    op.drop_index("ix_ip_transfers_from_departement", table_name="ip_transfers")
    op.drop_index("ix_ip_transfers_reference", table_name="ip_transfers")
    op.drop_table("ip_transfers")
    op.drop_index("ix_ips_feedback", table_name="ips")
    with op.batch_alter_table("ips") as batch:
        batch.drop_column("parents_notified_on")
        batch.drop_column("feedback_given_on")
        batch.drop_column("feedback_due")
        batch.drop_column("sender_signalement")
        batch.drop_column("received_via")
