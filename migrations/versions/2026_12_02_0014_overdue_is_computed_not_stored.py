"""Overdue is computed from the due date and status, not stored

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUE_COLUMNS = ["status", "town_mask", "category", "is_cross_town", "assignee", "created_at"]


def upgrade() -> None:
    """Drop `cases.is_overdue`: only the escalation job set it and nothing cleared it, so a
    closed case stayed 超期. The queue index takes `due_at` in its place, so counting overdue
    cases (open and due before now) still reads the index alone."""
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_queue")
        batch_op.drop_index(batch_op.f("ix_cases_is_overdue"))
        batch_op.drop_column("is_overdue")
        batch_op.create_index(
            "ix_cases_queue", [*QUEUE_COLUMNS[:3], "due_at", *QUEUE_COLUMNS[3:]], unique=False
        )


def downgrade() -> None:
    """Bring the column back, filled with what it should have said at the time of the
    downgrade (open and past due), and the old index."""
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_queue")
        batch_op.add_column(
            sa.Column("is_overdue", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        sa.text(
            "UPDATE cases SET is_overdue = :yes WHERE due_at < CURRENT_TIMESTAMP "
            "AND status IN ('registered', 'accepted', 'mediating', 'escalated')"
        ).bindparams(yes=True)
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_is_overdue"), ["is_overdue"], unique=False)
        batch_op.create_index(
            "ix_cases_queue",
            [*QUEUE_COLUMNS[:3], "is_overdue", *QUEUE_COLUMNS[3:]],
            unique=False,
        )
