"""Photo rights: who uploaded which content, and whether a record's naming of a photo counts

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 05:30:00

Existing uploaders get their grant (from blobs.uploaded_by). Existing references were made
under the earlier rule, which cannot tell who named a photo; they are kept valid, so the
photos towns see today stay visible (docs/security.md, Photos). New references are checked.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add blob_grants and blob_refs.named_by/valid."""

    op.create_table(
        "blob_grants",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "user_id", name=op.f("pk_blob_grants")),
    )
    op.execute(
        "INSERT INTO blob_grants (sha256, user_id, created_at) "
        "SELECT sha256, uploaded_by, created_at FROM blobs WHERE uploaded_by IS NOT NULL"
    )
    with op.batch_alter_table("blob_refs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("named_by", sa.String(length=36), nullable=True))
        batch_op.add_column(
            sa.Column("valid", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("blob_refs", schema=None) as batch_op:
        batch_op.alter_column("valid", server_default=None)


def downgrade() -> None:
    """Undo: drop photo rights."""

    with op.batch_alter_table("blob_refs", schema=None) as batch_op:
        batch_op.drop_column("valid")
        batch_op.drop_column("named_by")
    op.drop_table("blob_grants")
