"""Add device keys: the server-held key that wraps a phone's local data key

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add device keys: the server-held key that wraps a phone's local data key"""
    op.create_table(
        "device_keys",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_device_keys_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_device_keys_user_id_users")
        ),
        sa.PrimaryKeyConstraint("device_id", "user_id", name=op.f("pk_device_keys")),
    )


def downgrade() -> None:
    """Drop device keys"""
    op.drop_table("device_keys")
