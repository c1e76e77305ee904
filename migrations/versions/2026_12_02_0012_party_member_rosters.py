"""Party-member rosters: the members table, and the member ids a check-in picked

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add `members` and `checkins.participant_ids` (empty for the check-ins made before)."""
    op.create_table(
        "members",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("town", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("branch", sa.String(length=100), nullable=False),
        sa.Column("village", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["town"], ["towns.code"], name=op.f("fk_members_town_towns")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_members_town"), ["town"], unique=False)
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("participant_ids", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.alter_column("participant_ids", server_default=None)


def downgrade() -> None:
    """Drop `checkins.participant_ids` and `members` (the roster is lost)"""
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_column("participant_ids")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_town"))
    op.drop_table("members")
