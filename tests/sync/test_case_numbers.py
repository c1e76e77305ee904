"""Case numbers as a town sees them: 1, 2, 3… per town and year, never repeated, never
skipped, and as quick to give at the 150,000th case of a year as at the first."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest
from sqlalchemy import event

from server.clock import CHINA
from server.extensions import db
from server.fastpath.bulk_insert import insert_many
from server.models import Case
from server.models.base import new_id, table_of
from server.storage import migrate
from tests.factories import case_create


def numbers(rows, *mutations: dict) -> list[str]:
    return [rows(Case, id=m["record_id"])[0].number for m in mutations]


def test_case_numbers_run_on_per_town_across_batches_without_repeating(clock, login, rows):
    """Each town numbers its cases of the year 1, 2, 3… whichever batch they arrive in
    (here on 26 November 2026)."""
    admin = login("admin")
    first = [case_create("dayan"), case_create("xidian"), case_create("dayan")]
    second = [case_create("dayan"), case_create("xidian")]
    admin.push_ok(*first)
    admin.push_ok(*second)
    assert numbers(rows, *first, *second) == [
        "DY2026-00001",
        "XD2026-00001",
        "DY2026-00002",
        "DY2026-00003",
        "XD2026-00002",
    ]


def test_the_year_of_a_case_number_is_the_year_in_china(clock, login, rows):
    """At 00:30 on 1 January 2027 in Zhejiang it is still 31 December 2026 in UTC: the case
    is Dayan's first of 2027, not its third of 2026."""
    clock.set(datetime(2026, 12, 31, 23, 0, tzinfo=CHINA))
    admin = login("admin")  # signed in on the day: a token ends after idle days
    old_year = [case_create("dayan"), case_create("dayan")]
    admin.push_ok(*old_year)
    clock.set(datetime(2027, 1, 1, 0, 30, tzinfo=CHINA))
    new_year = case_create("dayan")
    admin.push_ok(new_year)
    assert numbers(rows, *old_year, new_year) == ["DY2026-00001", "DY2026-00002", "DY2027-00001"]


def test_intents_that_are_not_applied_take_no_number(clock, worker, rows):
    """A refused create and a replayed one leave the count where it was."""
    first, refused, second = case_create(), case_create(category="no_such"), case_create()
    results = worker.push_ok(first, refused, second)
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    third = case_create()
    replay = worker.push_ok(first, third, second)
    assert [r.get("replayed", False) for r in replay] == [True, False, True]
    assert numbers(rows, first, second, third) == ["DY2026-00001", "DY2026-00002", "DY2026-00003"]


def test_a_batch_redone_intent_by_intent_leaves_no_hole_in_the_numbers(
    clock, worker, clashing_create, rows
):
    """The batch took numbers 1-3 before the database refused its middle case; redone intent
    by intent, the refused case gives its number back with its savepoint."""
    clash = clashing_create()
    before, after = case_create(), case_create()
    results = worker.push_ok(before, clash, after)
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    later = case_create()
    worker.push_ok(later)
    assert numbers(rows, before, after, later) == [
        "DY2026-00001",
        "DY2026-00002",
        "DY2026-00003",
    ]


@contextmanager
def statements_run(app) -> Iterator[list[str]]:
    """The SQL the app's engine sends to the database while the block runs."""
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def add_cases(app, prefix: str, count: int, reported_by: str) -> None:
    """`count` Dayan cases numbered prefix00001 on, written as a restore would write them."""
    at = datetime(2026, 6, 1, tzinfo=CHINA)
    row = {
        "title": "山林界址争议",
        "category": "land",
        "primary_town": "dayan",
        "involved_towns": [],
        "parties": [],
        "description": "",
        "severity": "low",
        "location": None,
        "photos": [],
        "reported_at": at,
        "status": "registered",
        "assignee": None,
        "due_at": at,
        "reported_by": reported_by,
        "created_at": at,
        "updated_at": at,
        "is_cross_town": False,
        "town_mask": 1,
        "version": 1,
    }
    with app.app_context(), db.engine.begin() as conn:
        for start in range(1, count + 1, 10_000):
            stop = min(start + 10_000, count + 1)
            batch = [
                {**row, "id": new_id(), "number": f"{prefix}{n:05d}"} for n in range(start, stop)
            ]
            insert_many(conn, table_of(Case), batch)


@pytest.mark.slow  # 150,000 rows to write: about 10 s on SQLite, 20 s on PostgreSQL
def test_the_150001st_case_of_a_year_reads_none_of_the_150000_before_it(clock, app, worker, rows):
    """Dayan has 150,000 cases of 2026 when the counters come (migration 0009 counts them);
    its next case is 150001, and the push reads no case number to find it: the only read
    of the cases table is the batch's primary-key check that the new id is free."""
    add_cases(app, "DY2026-", 150_000, worker.user["id"])
    with app.app_context():
        migrate.downgrade(db.engine, "0008")
        migrate.upgrade(db.engine)
    create = case_create()
    with statements_run(app) as seen:
        worker.push_ok(create)
    assert numbers(rows, create) == ["DY2026-150001"]
    reads = [s for s in seen if re.match(r"\s*SELECT\b", s) and re.search(r"\bcases\b", s)]
    id_check = re.compile(r"SELECT cases\.id\s+FROM cases\s+WHERE cases\.id IN \(.*\)", re.S)
    assert reads and all(id_check.fullmatch(s.strip()) for s in reads), reads
