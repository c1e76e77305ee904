"""Add console sessions, case handoffs and conflict resolutions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 09:42:08.642805
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add console sessions, case handoffs and conflict resolutions"""

    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_console_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_console_sessions")),
    )
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_console_sessions_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_console_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "case_handoffs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("from_town", sa.String(length=32), nullable=False),
        sa.Column("to_town", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=36), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_handoffs_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_case_handoffs_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["from_town"], ["towns.code"], name=op.f("fk_case_handoffs_from_town_towns")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_case_handoffs_requested_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["to_town"], ["towns.code"], name=op.f("fk_case_handoffs_to_town_towns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_handoffs")),
    )
    with op.batch_alter_table("case_handoffs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_handoffs_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_handoffs_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_handoffs_to_town"), ["to_town"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_updated_at"), ["updated_at"], unique=False)
        batch_op.drop_index("ix_cases_assignee")
        batch_op.create_index("ix_cases_assignee_created", ["assignee", "created_at"], unique=False)
        batch_op.create_index(
            "ix_cases_queue",
            [
                "status",
                "town_mask",
                "category",
                "is_overdue",
                "is_cross_town",
                "assignee",
                "created_at",
            ],
            unique=False,
        )

    with op.batch_alter_table("conflicts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resolution", sa.String(length=16), nullable=True))

    with op.batch_alter_table("rejected_intents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handled_by", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Undo: Add console sessions, case handoffs and conflict resolutions"""

    with op.batch_alter_table("rejected_intents", schema=None) as batch_op:
        batch_op.drop_column("handled_at")
        batch_op.drop_column("handled_by")

    with op.batch_alter_table("conflicts", schema=None) as batch_op:
        batch_op.drop_column("resolution")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_queue")
        batch_op.drop_index("ix_cases_assignee_created")
        batch_op.create_index("ix_cases_assignee", ["assignee"], unique=False)
        batch_op.drop_index(batch_op.f("ix_cases_updated_at"))

    with op.batch_alter_table("case_handoffs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_handoffs_to_town"))
        batch_op.drop_index(batch_op.f("ix_case_handoffs_status"))
        batch_op.drop_index(batch_op.f("ix_case_handoffs_case_id"))

    op.drop_table("case_handoffs")
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_sessions_user_id"))
        batch_op.drop_index(batch_op.f("ix_console_sessions_expires_at"))

    op.drop_table("console_sessions")
