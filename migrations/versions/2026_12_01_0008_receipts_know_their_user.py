"""Receipts know their user: a stored result is replayed only to the person whose intent it was

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every user a device has had: who made its changes, whose intents it had refused, and the
# user it is bound to now. Before this version a sign-in could re-bind a device id to another
# person (issue #16), so a device's receipts may belong to more than one user.
DEVICE_USERS = """
    SELECT device_id, user_id FROM changes
     WHERE device_id IS NOT NULL AND user_id IS NOT NULL
    UNION SELECT device_id, user_id FROM rejected_intents
    UNION SELECT id, user_id FROM devices
"""


def upgrade() -> None:
    """Add `mutation_receipts.user_id` and fill it in from what records whose intent it was.

    A receipt takes the user of the changes its mutation made (`changes` has device, user and
    mutation id), else of the rejection it stored (`rejected_intents`). The rest (results that
    changed nothing, or whose rows are gone) stay null, and null is read as "the device's one
    user" - true only on a device that has had a single user. On a device whose history (its
    changes, its rejections, its current binding) shows more than one user, those receipts are
    deleted: no one can prove whose they are, replaying one to the wrong person would hand them
    another person's stored result, and from this version devices never change hands, so no
    receipt written from now on is ever in doubt. A deleted receipt costs at most a re-run of
    an old intent that its phone sends again, which the op's own rules (record_exists, version
    checks) then judge like any new intent.

    Both updates join against grouped tables instead of a per-receipt subquery: `changes` has
    no index on (device_id, mutation_id), and a correlated subquery would scan it per receipt.
    """
    with op.batch_alter_table("mutation_receipts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.String(length=36), nullable=True))
    for source in ("changes", "rejected_intents"):
        op.execute(
            f"""
            UPDATE mutation_receipts SET user_id = owners.user_id
              FROM (SELECT device_id, mutation_id, min(user_id) AS user_id FROM {source}
                     WHERE device_id IS NOT NULL AND mutation_id IS NOT NULL
                       AND user_id IS NOT NULL
                     GROUP BY device_id, mutation_id) AS owners
             WHERE mutation_receipts.user_id IS NULL
               AND owners.device_id = mutation_receipts.device_id
               AND owners.mutation_id = mutation_receipts.mutation_id
            """
        )
    op.execute(
        f"""
        DELETE FROM mutation_receipts
         WHERE user_id IS NULL
           AND device_id IN (SELECT device_id FROM ({DEVICE_USERS}) AS device_users
                              GROUP BY device_id HAVING count(DISTINCT user_id) > 1)
        """
    )


def downgrade() -> None:
    """Drop `mutation_receipts.user_id` (receipts deleted by the upgrade stay deleted)"""
    with op.batch_alter_table("mutation_receipts", schema=None) as batch_op:
        batch_op.drop_column("user_id")
