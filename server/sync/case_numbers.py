"""Case numbers: the town's abbreviation, the year and a running number, DY2026-00042.

Each town's year has a counter row (`case_number_counters`); a new case takes the next
number in one statement, whatever the year already holds. The statement runs in the push's
transaction: a rolled-back savepoint gives its numbers back, so numbers stay gap-free, and
the row lock it takes keeps them unique even outside the write lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, Integer, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from server.clock import CHINA
from server.fastpath.prepared import run_prepared
from server.models import CaseNumberCounter
from server.models.base import table_of

COUNTERS = table_of(CaseNumberCounter)


def _take_next(insert: sqlite.Insert | postgresql.Insert) -> Insert:
    """INSERT … ON CONFLICT (prefix) DO UPDATE … RETURNING: SQLite (3.35+) and PostgreSQL
    both take it, each from its own dialect's construct. Takes `count` numbers at once."""
    count = bindparam("count", type_=Integer)
    statement = insert.values(prefix=bindparam("prefix"), last_number=count)
    return statement.on_conflict_do_update(
        index_elements=[COUNTERS.c.prefix],
        set_={"last_number": COUNTERS.c.last_number + count},
    ).returning(COUNTERS.c.last_number)


TAKE_NEXT = {
    "sqlite": _take_next(sqlite.insert(COUNTERS)),
    "postgresql": _take_next(postgresql.insert(COUNTERS)),
}


def number_prefix(abbr: str, at: datetime) -> str:
    """The alliance's year: a case registered at 00:30 on 1 January in China is of the new
    year though UTC is still in the old one."""
    return f"{abbr}{at.astimezone(CHINA).year}-"


def next_case_number(conn: Connection, abbr: str, at: datetime) -> str:
    """The next number of the town's year; at least five digits (DY2026-100000 follows
    DY2026-99999)."""
    prefix = number_prefix(abbr, at)
    [(last,)] = run_prepared(conn, TAKE_NEXT[conn.dialect.name], prefix=prefix, count=1)
    return f"{prefix}{last:05d}"


GIVE_BACK = (
    COUNTERS.update()
    .where(COUNTERS.c.prefix == bindparam("b_prefix"))
    .values(last_number=bindparam("b_last"))
)


class NumberBlocks:
    """A batch's case numbers, taken from the counters a block at a time: one statement per
    town's year and batch instead of one per case. A town's block is as large as the
    batch's creates naming that town still to come; what the batch did not use goes back
    at its end (`give_back`), in the same savepoint, so numbers stay gap-free. Nobody can
    take numbers of that year in between: the block's statement holds the counter's row
    (and SQLite's write lock) until the transaction ends."""

    def __init__(self, wanted: dict[str, int]):
        self.wanted = dict(wanted)  # town code -> creates of the batch naming it
        self.blocks: dict[str, list[int]] = {}  # prefix -> [next number, last reserved]

    def take(self, conn: Connection, town: str, abbr: str, at: datetime) -> str:
        prefix = number_prefix(abbr, at)
        block = self.blocks.get(prefix)
        if block is None or block[0] > block[1]:
            count = max(1, self.wanted.get(town, 0))
            [(last,)] = run_prepared(conn, TAKE_NEXT[conn.dialect.name], prefix=prefix, count=count)
            block = self.blocks[prefix] = [last - count + 1, last]
        number = block[0]
        block[0] += 1
        self.wanted[town] = self.wanted.get(town, 1) - 1
        return f"{prefix}{number:05d}"

    def give_back(self, conn: Connection) -> None:
        unused = [
            {"b_prefix": prefix, "b_last": first - 1}
            for prefix, (first, last) in self.blocks.items()
            if first <= last
        ]
        if unused:
            conn.execute(GIVE_BACK, unused)
        self.blocks = {}


def split_number(number: str) -> tuple[str, int] | None:
    """("DY2026-", 42) for "DY2026-00042"; None for a number not of that form."""
    prefix, dash, digits = number.rpartition("-")
    if not dash or not (digits.isascii() and digits.isdigit()):
        return None
    return prefix + dash, int(digits)


def greatest_numbers(numbers: Iterable[str]) -> dict[str, int]:
    """The greatest running number of each prefix, compared as integers (as text,
    "DY2026-100000" sorts before "DY2026-99999")."""
    greatest: dict[str, int] = {}
    for number in numbers:
        parts = split_number(number)
        if parts is not None:
            prefix, n = parts
            greatest[prefix] = max(greatest.get(prefix, 0), n)
    return greatest
