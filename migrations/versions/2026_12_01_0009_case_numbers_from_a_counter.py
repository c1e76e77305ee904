"""Case numbers from a counter: one row per town and year holds the last number given

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = sa.table(
    "case_number_counters",
    sa.column("prefix", sa.Text),
    sa.column("last_number", sa.Integer),
)


def upgrade() -> None:
    """Create `case_number_counters` and set each prefix's counter to its greatest number.

    A number is its prefix (up to and including its last "-": "DY2026-") and a running
    number of at least five digits, so past 99,999 text order is not numeric order
    ("DY2026-100000" < "DY2026-99999"): the numbers are read once and compared as integers
    here, in Python, the same on SQLite and PostgreSQL. A suffix that is not digits (no
    server ever wrote one) gives no number.
    """
    op.create_table(
        "case_number_counters",
        sa.Column("prefix", sa.Text(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", name=op.f("pk_case_number_counters")),
    )
    greatest: dict[str, int] = {}
    numbers = sa.text("SELECT number FROM cases").execution_options(yield_per=10_000)
    for (number,) in op.get_bind().execute(numbers):
        prefix, dash, digits = number.rpartition("-")
        if dash and digits.isascii() and digits.isdigit():
            key = prefix + dash
            greatest[key] = max(greatest.get(key, 0), int(digits))
    if greatest:
        op.bulk_insert(
            COUNTERS,
            [{"prefix": p, "last_number": n} for p, n in sorted(greatest.items())],
        )


def downgrade() -> None:
    """Drop `case_number_counters` (an upgrade rebuilds it from the cases' numbers)"""
    op.drop_table("case_number_counters")
