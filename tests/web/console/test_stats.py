"""Statistics: a town's and the alliance's figures, drawn as SVG and listed as tables, from
cases and check-ins pushed by phones through the sync protocol."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from flask import Flask

from server.domain.workflow import STATUSES
from server.extensions import db
from server.models import Case, CaseEvent
from server.web.console import CHINA
from tests.factories import case_create, checkin, transition
from tests.web.console.conftest import soup

RESOLVE = (("registered", "accepted"), ("accepted", "mediating"), ("mediating", "resolved"))


def registered_days_before_resolution(app: Flask, case_id: str, days: float) -> None:
    """Back-date a case's registration (as a restore of older data would), so its time to
    resolve is known exactly."""
    with app.app_context():
        resolved_at = db.session.scalar(
            db.select(db.func.min(CaseEvent.at)).where(
                CaseEvent.case_id == case_id, CaseEvent.to_value == "resolved"
            )
        )
        case = db.session.get(Case, case_id)
        case.created_at = resolved_at - timedelta(days=days)
        db.session.commit()


def make_overdue(app: Flask, case_id: str) -> None:
    """The case was due long ago: it counts as overdue at once, no scheduled job needed."""
    with app.app_context():
        case = db.session.get(Case, case_id)
        case.due_at = datetime(2026, 1, 1, tzinfo=UTC)
        db.session.commit()


def tile(page: BeautifulSoup, name: str) -> str:
    return page.select_one(f"[data-stat={name}] strong").get_text(strip=True)


def table_counts(page: BeautifulSoup, section: str, attribute: str) -> dict[str, int]:
    return {
        row[attribute]: int(row.select("td")[-1].get_text(strip=True))
        for row in page.select(f"#{section} tbody tr[{attribute}]")
    }


@pytest.fixture
def story(clock, app: Flask, login, sites) -> dict:
    """On Thursday 26 November 2026, 09:12 in Zhejiang, Dayan's worker registers three
    cases, one co-handled with Shenzhen; the Dayan supervisor resolves one in three and a half
    days; one goes overdue. Workers of Dayan and Shenzhen check in at their towns' heritage
    sites that morning, and one Dayan check-in is from 12 October."""
    assert clock.at == datetime(2026, 11, 26, 9, 12, tzinfo=CHINA)
    worker, supervisor = login("dayan_worker"), login("dayan_supervisor")
    land = case_create(title="山林界址争议")
    water = case_create(title="跨镇引水纠纷", category="water", involved_towns=["shenzhen"])
    roads = case_create(title="村道占用", category="roads", severity="high")
    worker.push_ok(land, water, roads)
    supervisor.push_ok(*[transition(land["record_id"], a, b) for a, b in RESOLVE])
    registered_days_before_resolution(app, land["record_id"], 3.5)
    make_overdue(app, roads["record_id"])

    now = clock.at
    earlier = datetime(2026, 10, 12, 15, 0, tzinfo=CHINA)
    hall, daicun = sites["dayan_alliance_hall"], sites["zhekeng_daicun"]
    worker.push_ok(
        checkin(hall["id"], hall["lat"], hall["lon"], at=now.isoformat()),
        checkin(hall["id"], hall["lat"], hall["lon"], at=(now - timedelta(hours=1)).isoformat()),
        checkin(hall["id"], hall["lat"] + 0.05, hall["lon"], at=earlier.isoformat()),  # flagged
    )
    login("shenzhen_worker").push_ok(
        checkin(daicun["id"], daicun["lat"], daicun["lon"], at=now.isoformat())
    )
    return {
        "land": land,
        "water": water,
        "roads": roads,
        "hall": hall,
        "daicun": daicun,
        "this_month": "2026-11",
        "last_month": "2026-10",
    }


def test_a_town_supervisor_sees_their_towns_figures_as_charts_and_tables(console, story):
    page = console("dayan_supervisor").page("/console/stats")

    assert page.select_one("#scope")["data-town"] == "dayan"
    assert page.select_one("select[name=town]") is None  # a supervisor cannot pick a town
    assert tile(page, "total") == "3"
    assert tile(page, "cross_share") == "33%"
    assert tile(page, "overdue") == "1"
    assert tile(page, "median") == "3.5 天"
    assert table_counts(page, "by-status", "data-status") == {
        "registered": 2,
        "accepted": 0,
        "mediating": 0,
        "resolved": 1,
        "escalated": 0,
        "closed": 0,
    }
    categories = table_counts(page, "by-category", "data-category")
    assert (categories["land"], categories["water"], categories["roads"]) == (1, 1, 1)
    assert sum(categories.values()) == 3
    assert page.select_one("#by-town") is None  # only the alliance compares towns

    chart = page.select_one("#by-status svg")
    assert chart["role"] == "img" and chart["aria-label"] == "各状态案件数"
    assert chart.title.get_text() == "各状态案件数"
    bars = chart.select("g.bar")
    assert len(bars) == len(STATUSES)
    assert [b.select_one("text.label").get_text() for b in bars] == [
        "登记",
        "受理",
        "调解中",
        "已化解",
        "提交联合执法",
        "办结",
    ]
    assert [b.select_one("text.value").get_text() for b in bars] == ["2", "0", "0", "1", "0", "0"]
    widths = [float(b.rect["width"]) for b in bars]
    assert widths[0] > widths[3] > 0 and widths[1] == 0

    checkins = page.select_one("#checkins")
    months = [th["data-month"] for th in checkins.select("thead th[data-month]")]
    assert len(months) == 12 and months[-1] == story["this_month"]
    [hall] = checkins.select("tbody tr[data-site]")  # Dayan's site only
    assert hall["data-site"] == story["hall"]["id"]
    cells = [int(td.get_text()) for td in hall.select("td")]
    by_month = dict(zip(months, cells[:12], strict=True))
    assert by_month[story["this_month"]] == 2 and by_month[story["last_month"]] == 1
    assert cells[12:] == [3, 2]  # total, of which verified
    month_bars = checkins.select("svg g.bar")
    assert [b["data-value"] for b in month_bars][-1] == "2"


def test_a_co_handling_town_counts_the_cross_town_case_only(console, story):
    page = console("shenzhen_supervisor").page("/console/stats")

    assert page.select_one("#scope")["data-town"] == "shenzhen"
    assert tile(page, "total") == "1"
    assert tile(page, "cross_share") == "100%"
    assert tile(page, "overdue") == "0"
    assert tile(page, "median") == "—"
    assert table_counts(page, "by-status", "data-status")["registered"] == 1
    assert table_counts(page, "by-category", "data-category")["water"] == 1
    [site] = page.select("#checkins tbody tr[data-site]")
    assert site["data-site"] == story["daicun"]["id"]
    assert [int(td.get_text()) for td in site.select("td")][12:] == [1, 1]


def test_a_supervisor_cannot_look_at_another_towns_figures(console, story):
    dayan = console("dayan_supervisor")
    assert dayan.get("/console/stats?town=shenzhen").status_code == 404
    assert dayan.page("/console/stats?town=dayan").select_one("#scope")["data-town"] == "dayan"


def test_the_admin_sees_the_alliance_and_can_pick_a_town(story, admin_console):
    page = admin_console.page("/console/stats")
    assert page.select_one("#scope")["data-town"] == ""
    assert tile(page, "total") == "3" and tile(page, "cross_share") == "33%"
    by_town = {
        row["data-town"]: [int(td.get_text()) for td in row.select("td")]
        for row in page.select("#by-town tbody tr")
    }
    assert by_town["dayan"] == [3, 2, 1]  # cases, open, overdue
    assert by_town["shenzhen"] == [1, 1, 0]
    assert by_town["xidian"] == [0, 0, 0]
    assert len(page.select("#by-town svg g.bar")) == 5
    assert {r["data-site"] for r in page.select("#checkins tbody tr[data-site]")} >= {
        story["hall"]["id"],
        story["daicun"]["id"],
    }
    assert page.select("#checkins tfoot td")[-2].get_text() == "4"

    shenzhen = admin_console.page("/console/stats?town=shenzhen")
    assert shenzhen.select_one("#scope")["data-town"] == "shenzhen"
    assert tile(shenzhen, "total") == "1"
    assert admin_console.get("/console/stats?town=nowhere").status_code == 404


def test_a_date_range_limits_the_cases_and_the_check_in_months(console, story):
    """The cases were registered on 22 and 26 November; the check-ins are of 26 November and
    12 October."""
    dayan = console("dayan_supervisor")
    later = dayan.page("/console/stats?date_from=2026-11-27")
    assert tile(later, "total") == "0" and tile(later, "cross_share") == "—"
    assert later.select_one("#by-status svg")["aria-label"] == "各状态案件数"

    page = dayan.page("/console/stats?date_to=2026-10-31")
    assert tile(page, "total") == "0"
    months = [th["data-month"] for th in page.select("#checkins thead th[data-month]")]
    assert months[0] == "2025-11" and months[-1] == "2026-10"
    hall = page.select_one("#checkins tbody tr[data-site]")
    assert int(hall.select("td")[11].get_text()) == 1  # October's one, far from the hall

    links = {a["href"] for a in page.select("#by-status a")}
    assert "/console/cases?status=registered&date_to=2026-10-31&town=dayan" in links

    november = dayan.page("/console/stats?date_from=2026-11-22&date_to=2026-11-22")
    assert tile(november, "total") == "1"  # the land case, back-dated to 22 November
    assert tile(november, "median") == "3.5 天"


def test_the_months_end_with_chinas_month_not_utcs(clock, console, login, sites):
    """At 00:30 on 1 December in Zhejiang it is still 30 November in UTC: a check-in made
    then counts for December, and December is the last month shown."""
    clock.set(datetime(2026, 12, 1, 0, 30, tzinfo=CHINA))
    hall = sites["dayan_alliance_hall"]
    login("dayan_worker").push_ok(
        checkin(hall["id"], hall["lat"], hall["lon"], at=clock.at.isoformat())
    )

    page = console("dayan_supervisor").page("/console/stats")
    months = [th["data-month"] for th in page.select("#checkins thead th[data-month]")]
    assert months[0] == "2026-01" and months[-1] == "2026-12"
    row = page.select_one(f"#checkins tbody tr[data-site='{hall['id']}']")
    assert [int(td.get_text()) for td in row.select("td")][10:13] == [0, 1, 1]


def test_bad_ranges_are_refused_with_a_translated_reason(console, story):
    dayan = console("dayan_supervisor")
    response = dayan.get("/console/stats?date_from=2026-05-01&date_to=2026-04-01")
    assert response.status_code == 400
    assert "结束日期不能早于开始日期。" in soup(response).select_one("ul.errors").get_text()
    assert tile(soup(response), "total") == "3"  # the unfiltered figures still show

    assert dayan.get("/console/stats?date_from=yesterday").status_code == 400
    assert dayan.get("/console/stats?colour=red").status_code == 400  # unknown parameter


def test_in_english_with_no_inline_style_or_script(console, story):
    dayan = console("dayan_supervisor")
    dayan.client.set_cookie("fengling_lang", "en")
    response = dayan.get("/console/stats")
    page = soup(response)
    assert tile(page, "median") == "3.5 days"
    assert page.select_one("#by-status svg")["aria-label"] == "Cases by status"
    assert [b.select_one("text.label").get_text() for b in page.select("#by-category svg g.bar")][
        :3
    ] == ["Land and boundary", "Water", "Roads and access"]
    assert "style=" not in response.text and "<script" not in response.text
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_median_is_the_middle_case_not_the_mean(app, console, worker, supervisor):
    cases = [case_create(title=f"纠纷{i}") for i in range(3)]
    worker.push_ok(*cases)
    for case, days in zip(cases, (1, 2, 10), strict=True):
        supervisor.push_ok(*[transition(case["record_id"], a, b) for a, b in RESOLVE])
        supervisor.push_ok(transition(case["record_id"], "resolved", "closed"))
        registered_days_before_resolution(app, case["record_id"], days)

    page = console("dayan_supervisor").page("/console/stats")
    assert tile(page, "median") == "2.0 天"
    assert "3" in page.select_one("[data-stat=median] small").get_text()
    assert table_counts(page, "by-status", "data-status")["closed"] == 3


def test_signing_in_is_required(client):
    response = client.get("/console/stats")
    assert response.status_code == 302
    assert "/console/login" in response.headers["Location"]
