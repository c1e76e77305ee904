"""Check-ins keep the time of their fix and why they are not verified; a fix is optional

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIX_COLUMNS = ("lat", "lon", "accuracy_m", "distance_m")
# Check-ins flagged before this revision were flagged for accuracy or distance (their fix's
# time was never sent): the first of the two checks that fails names the reason.
OLD_REASONS = """
    UPDATE checkins SET unverified_reason = CASE
        WHEN accuracy_m > (SELECT radius_m FROM sites WHERE sites.id = checkins.site_id)
        THEN 'poor_accuracy' ELSE 'too_far' END
    WHERE verified = :no
"""


def upgrade() -> None:
    """Add `fix_at` and `unverified_reason`, let the position and distance be null (a
    check-in without a fix), and give the check-ins already flagged their reason."""
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fix_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("unverified_reason", sa.String(length=16), nullable=True))
        for column in FIX_COLUMNS:
            batch_op.alter_column(column, existing_type=sa.Float(), nullable=True)
    op.execute(sa.text(OLD_REASONS).bindparams(no=False))


def downgrade() -> None:
    """Drop the columns. Check-ins without a fix are kept (nothing saved is dropped), with a
    placeholder the old schema can hold and nobody can mistake for a position: 0°N 0°E at the
    worst accuracy a phone may send (100 km), still flagged."""
    op.execute(
        sa.text(
            "UPDATE checkins SET lat = 0, lon = 0, accuracy_m = 100000, distance_m = 0"
            " WHERE lat IS NULL"
        )
    )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        for column in FIX_COLUMNS:
            batch_op.alter_column(column, existing_type=sa.Float(), nullable=False)
        batch_op.drop_column("unverified_reason")
        batch_op.drop_column("fix_at")
