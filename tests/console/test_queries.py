"""No N+1: the queue and the case page cost the same number of queries however much
they show."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from tests.factories import case_event


@contextmanager
def counting(app) -> Iterator[list[str]]:  # noqa: ANN001
    from server.extensions import db

    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001, ANN002
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "SAVEPOINT",
                                                      "RELEASE")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def queries_for(app, console, path: str) -> int:  # noqa: ANN001
    with counting(app) as statements:
        console.page(path)
    return len(statements)


def test_the_queue_costs_the_same_with_3_or_30_cases(app, console, report, login, rows):
    from server.models import User
    from tests.factories import assign

    admin = console("admin")
    for index in range(3):
        report(title=f"纠纷{index}")
    small = queries_for(app, admin, "/console/cases")
    admin_phone = login("admin")
    workers = {user.town_code: user.id for user in rows(User, role="worker")}
    for index in range(27):
        town = ("dayan", "shenzhen")[index % 2]
        case_id = report(town, title=f"更多纠纷{index}")
        if index % 3 == 0:
            admin_phone.push_ok(assign(case_id, workers[town]))
    large = queries_for(app, admin, "/console/cases")
    assert large == small


def test_the_case_page_costs_the_same_with_1_or_20_timeline_entries(app, console, report,
                                                                   login):
    admin = console("admin")
    case_id = report()
    phone = login("dayan_worker")
    phone.push_ok(case_event(case_id, "note", "第一条"))
    small = queries_for(app, admin, f"/console/cases/{case_id}")
    phone.push_ok(*[case_event(case_id, "note", f"第{i}条") for i in range(19)])
    large = queries_for(app, admin, f"/console/cases/{case_id}")
    assert large == small
