"""The case queue: what each town sees, filters, search, counts and pages."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl

from server.clock import CHINA
from tests.factories import transition


def queue_numbers(console, **query) -> list[str]:
    page = console.page("/console/cases", query_string=query)
    return [row.select_one("td a").text for row in page.select("#queue tbody tr[data-case]")]


def test_a_supervisor_sees_their_town_and_the_cross_town_cases_that_involve_it(console, report):
    report("dayan", title="大堰本镇纠纷")
    report("shenzhen", title="深甽本镇纠纷")
    report("shenzhen", title="深甽大堰交界纠纷", involved_towns=["dayan"])

    dayan = console("dayan_supervisor").page("/console/cases")
    titles = {a.text for a in dayan.select("#queue tbody td:nth-of-type(2) a")}
    assert titles == {"大堰本镇纠纷", "深甽大堰交界纠纷"}

    admin = console("admin").page("/console/cases")
    assert len(admin.select("#queue tbody tr[data-case]")) == 3


def test_filters_narrow_the_queue_and_counts_follow_them(console, report, login):
    supervisor_phone = login("dayan_supervisor")
    first = report(title="山林界址争议", category="land", severity="high")
    report(title="邻里噪音", category="neighbours")
    report(title="跨镇水源纠纷", category="water", involved_towns=["xidian"])
    supervisor_phone.push_ok(transition(first, "registered", "accepted"))
    admin = console("admin")

    assert len(queue_numbers(admin, status="accepted")) == 1
    assert len(queue_numbers(admin, category="neighbours")) == 1
    assert len(queue_numbers(admin, cross_town="yes")) == 1
    assert len(queue_numbers(admin, town="xidian")) == 1
    assert len(queue_numbers(admin, unassigned="1")) == 3
    page = admin.page("/console/cases", query_string={"category": "land"})
    counts = {
        a["data-status"]: int(a.strong.text) for a in page.select(".status-counts a[data-status]")
    }
    assert counts["accepted"] == 1 and counts["registered"] == 0


def test_search_finds_case_numbers_titles_and_party_names(console, report):
    report(title="山林界址争议", parties=[{"name": "陈阿宝", "role": "applicant"}])
    report(title="邻里噪音")
    admin = console("admin")
    assert len(queue_numbers(admin, q="陈阿宝")) == 1
    assert len(queue_numbers(admin, q="噪音")) == 1
    [number] = queue_numbers(admin, q="噪音")
    assert queue_numbers(admin, q=number) == [number]
    assert queue_numbers(admin, q="100%") == []


def test_the_date_range_is_in_china_standard_time(console, report, execute):
    case_id = report(title="深夜登记")
    # 2026-11-25 16:30 UTC is 2026-11-26 00:30 in China: it belongs to the 26th.
    execute(
        "UPDATE cases SET created_at = :at WHERE id = :id",
        at="2026-11-25 16:30:00+00:00",
        id=case_id,
    )
    admin = console("admin")
    assert len(queue_numbers(admin, date_from="2026-11-26", date_to="2026-11-26")) == 1
    assert queue_numbers(admin, date_to="2026-11-25") == []


def test_the_queue_pages_and_sorts(make_app, console, report):
    for index in range(7):
        report(title=f"纠纷{index}")
    admin = console("admin")
    admin.client.application.config["CONSOLE_PAGE_SIZE"] = 3
    first = queue_numbers(admin, sort="number", dir="asc")
    second = queue_numbers(admin, sort="number", dir="asc", page=2)
    third = queue_numbers(admin, sort="number", dir="asc", page=3)
    assert len(first) == 3 and len(second) == 3 and len(third) == 1
    assert first + second + third == sorted(first + second + third)
    page = admin.page("/console/cases", query_string={"sort": "number", "page": 2})
    assert page.select_one(".pager span").text == "第 2 / 3 页"


def test_a_bad_filter_is_explained_in_chinese(dayan_console):
    response = dayan_console.get("/console/cases", query_string={"status": "lost", "x": "1"})
    assert response.status_code == 400
    errors = dayan_console.read_csrf  # noqa: F841  (the page still renders with its forms)
    assert "必须是以下之一" in response.text
    assert "不允许的字段" in response.text


def test_the_queue_shows_what_needs_attention(console, report, login):
    case_id = report(involved_towns=["shenzhen"])
    phone = login("dayan_supervisor")
    phone.push_ok(
        transition(case_id, "registered", "accepted"), transition(case_id, "accepted", "escalated")
    )
    shenzhen = console("shenzhen_supervisor").page("/console/cases")
    tile = shenzhen.select_one(".attention a[href$='status=escalated'] strong")
    assert tile.text == "1"


def test_overdue_is_true_without_the_job_and_clears_on_resolve_and_close(
    clock, console, report, login
):
    """On 26 November 2026 Dayan's worker registers a high case (due in 3 days) and two medium
    ones (due in 7). On 1 December, with no scheduled job run, the high one is 超期 in the
    queue, on its page, in statistics and in the export; a week later all three are. The
    supervisor resolves one and closes another: each leaves 仅超期 at once, and the queue's
    overdue count stays the statistics' count."""
    high = report(title="村道占用", severity="high")
    resolved, closed = report(title="邻里噪音"), report(title="山林界址争议")
    supervisor = console("dayan_supervisor")
    phone = login("dayan_supervisor")

    def overdue_in_queue() -> set[str]:
        page = supervisor.page("/console/cases", query_string={"overdue": "1"})
        return {row["data-case"] for row in page.select("#queue tbody tr[data-case]")}

    def badged(case_id: str) -> bool:
        page = supervisor.page(f"/console/cases/{case_id}")
        return page.select_one(".badge.overdue") is not None

    def overdue_in_stats() -> int:
        page = supervisor.page("/console/stats")
        return int(page.select_one("[data-stat=overdue] strong").get_text(strip=True))

    def overdue_in_export() -> set[str]:
        sheet = openpyxl.load_workbook(
            io.BytesIO(supervisor.get("/console/cases/export.xlsx").data)
        )
        _header, *rows = sheet.active.iter_rows(values_only=True)
        return {r[1] for r in rows if r[11] == "是"}

    assert overdue_in_queue() == set() and not badged(high) and overdue_in_stats() == 0

    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=CHINA))
    supervisor = console("dayan_supervisor")  # a new day, a new sign-in
    assert overdue_in_queue() == {high}
    assert badged(high) and not badged(resolved)
    assert overdue_in_stats() == 1 and overdue_in_export() == {"村道占用"}

    clock.advance(days=7)
    supervisor = console("dayan_supervisor")
    assert overdue_in_queue() == {high, resolved, closed}
    assert overdue_in_stats() == 3

    steps = (("registered", "accepted"), ("accepted", "mediating"), ("mediating", "resolved"))
    phone.push_ok(*[transition(resolved, a, b) for a, b in steps])
    assert overdue_in_queue() == {high, closed} and not badged(resolved)
    assert overdue_in_stats() == 2

    phone.push_ok(
        *[transition(closed, a, b) for a, b in steps], transition(closed, "resolved", "closed")
    )
    assert overdue_in_queue() == {high} and not badged(closed)
    assert overdue_in_stats() == 1 and overdue_in_export() == {"村道占用"}
    page = supervisor.page("/console/cases", query_string={"overdue": "1"})
    assert len(page.select("#queue tbody tr.overdue")) == 1
