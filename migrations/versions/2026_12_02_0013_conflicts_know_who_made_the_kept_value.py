"""Conflicts know who made the kept value and when

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add `kept_by` and `kept_at` to conflicts (null for the conflicts recorded before: the
    phone then names nobody rather than a guess)."""
    with op.batch_alter_table("conflicts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kept_by", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("kept_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_conflicts_kept_by_users"), "users", ["kept_by"], ["id"]
        )


def downgrade() -> None:
    """Drop them again; the conflicts themselves are untouched."""
    with op.batch_alter_table("conflicts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_conflicts_kept_by_users"), type_="foreignkey")
        batch_op.drop_column("kept_at")
        batch_op.drop_column("kept_by")
