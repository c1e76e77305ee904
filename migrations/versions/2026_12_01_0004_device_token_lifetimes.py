"""Device tokens: when each was issued and when it was ended

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 05:20:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Device tokens: when each was issued and when it was ended.

    Tokens issued before this revision have no known issue time: both their absolute
    lifetime and their idle time start at the upgrade (the idle time counts from
    max(token_issued_at, last_seen_at), and token_issued_at is set to now), so a phone idle
    for months before the upgrade still gets a full idle period after it.
    """
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_issued_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("token_ended_at", sa.DateTime(timezone=True), nullable=True))
    devices = sa.table(
        "devices",
        sa.column("token_hash", sa.String),
        sa.column("token_issued_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":  # as server.models.base.UTCDateTime stores it
        now = now.replace(tzinfo=None)
    op.execute(
        devices.update().where(devices.c.token_hash.is_not(None)).values(token_issued_at=now)
    )


def downgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("token_ended_at")
        batch_op.drop_column("token_issued_at")
