"""follow-up key derivation named per record (argon2id before, keyed BLAKE2b from now on)

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    # Every follow-up that exists was derived with argon2id: the server default says so for them.
    with op.batch_alter_table("followups") as batch:
        batch.add_column(sa.Column("kdf", sa.String(length=16), nullable=False, server_default="argon2id"))


def downgrade():
    with op.batch_alter_table("followups") as batch:
        batch.drop_column("kdf")
