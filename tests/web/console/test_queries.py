"""No N+1: the queue and the case page cost the same number of queries however much
they show."""

from __future__ import annotations

from tests.factories import case_event


def queries_for(queries, console, path: str) -> int:
    return queries(lambda: console.page(path))


def test_the_queue_costs_the_same_with_3_or_30_cases(queries, console, report, login, rows):
    from server.models import User
    from tests.factories import assign

    admin = console("admin")
    for index in range(3):
        report(title=f"纠纷{index}")
    small = queries_for(queries, admin, "/console/cases")
    admin_phone = login("admin")
    workers = {user.town_code: user.id for user in rows(User, role="worker")}
    for index in range(27):
        town = ("dayan", "shenzhen")[index % 2]
        case_id = report(town, title=f"更多纠纷{index}")
        if index % 3 == 0:
            admin_phone.push_ok(assign(case_id, workers[town]))
    large = queries_for(queries, admin, "/console/cases")
    assert large == small


def test_the_case_page_costs_the_same_with_1_or_20_timeline_entries(
    queries, console, report, login
):
    admin = console("admin")
    case_id = report()
    phone = login("dayan_worker")
    phone.push_ok(case_event(case_id, "note", "第一条"))
    small = queries_for(queries, admin, f"/console/cases/{case_id}")
    phone.push_ok(*[case_event(case_id, "note", f"第{i}条") for i in range(19)])
    large = queries_for(queries, admin, f"/console/cases/{case_id}")
    assert large == small
