"""Concurrent feed writers on PostgreSQL: rows know their transaction, seqs come from a sequence

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TXID_TABLES = ("feed", "feed_revocations", "changes")
# The highest sequence number in use: under the old global lock last_seq covers every row,
# the maxima guard against rows written around it (a seeded benchmark database).
HIGHEST_SEQ = """
    SELECT GREATEST(
        (SELECT last_seq FROM server_state WHERE id = 1),
        (SELECT max(seq) FROM feed),
        (SELECT max(seq) FROM feed_revocations),
        (SELECT max(seq) FROM changes),
        0)
"""


def upgrade() -> None:
    """Add `txid` to the feed, its revocations and the audit trail, and the compaction
    horizon's `compacted_txid` (0: every existing row was written under the global lock,
    in seq order, so (0, seq) orders them as before, below any transaction id).

    PostgreSQL only: the `feed_seq` sequence, started above every number in use, and the
    (txid, seq) indexes that pulls read in order. SQLite gets the columns (always 0) and
    nothing else.
    """
    for table in TXID_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("txid", sa.BigInteger(), server_default="0", nullable=False)
            )
    with op.batch_alter_table("server_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("compacted_txid", sa.BigInteger(), server_default="0", nullable=False)
        )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE SEQUENCE feed_seq AS BIGINT")
    op.execute(f"SELECT setval('feed_seq', ({HIGHEST_SEQ}) + 1, false)")
    op.create_index("ix_feed_txid_seq", "feed", ["txid", "seq"])
    op.create_index("ix_feed_revocations_txid_seq", "feed_revocations", ["txid", "seq"])


def downgrade() -> None:
    """Back to one writer at a time: last_seq takes the highest number handed out.

    Rows keep their seqs, all above those of rows written before the upgrade. Version 1
    cursors (positions at a txid of 0, before any row this version wrote) stay sound under
    the old code's seq order; version 2 cursors are refused by it as invalid_cursor.
    """
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_feed_revocations_txid_seq", table_name="feed_revocations")
        op.drop_index("ix_feed_txid_seq", table_name="feed")
        op.execute(f"UPDATE server_state SET last_seq = ({HIGHEST_SEQ})")
        op.execute("DROP SEQUENCE feed_seq")
    with op.batch_alter_table("server_state", schema=None) as batch_op:
        batch_op.drop_column("compacted_txid")
    for table in TXID_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("txid")
