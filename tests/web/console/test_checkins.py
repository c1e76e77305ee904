"""Check-ins at the console: grid workers check in at red-heritage sites from their phones
(near the site: verified; far away: kept and flagged with its distance), and supervisors
review them by site and by route, and download them as sheets."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from server.domain.geofence import distance_m
from tests.factories import checkin

DAYAN = "dayan_alliance_hall"
SHENZHEN = "zhekeng_daicun"
FAR_LAT = 29.4900  # about 1 km north of the Dayan site: outside its 150 m radius
HEADERS_ZH = [
    "打卡时间",
    "红色地标",
    "乡镇",
    "网格员",
    "活动",
    "参与人数",
    "参加人员",
    "核验",
    "距离(米)",
    "精度(米)",
    "备注",
]


@pytest.fixture
def check_in(login, sites):
    """check_in(town, site_code, lat=None, lon=None, **data) -> the check-in's id, pushed by
    that town's worker (at the site itself unless lat/lon say otherwise)."""
    phones: dict = {}

    def push(
        town: str, code: str, lat: float | None = None, lon: float | None = None, **data
    ) -> str:
        if town not in phones:
            phones[town] = login(f"{town}_worker")
        site = sites[code]
        mutation = checkin(
            site["id"],
            site["lat"] if lat is None else lat,
            site["lon"] if lon is None else lon,
            **data,
        )
        [result] = phones[town].push_ok(mutation)
        assert result["status"] == "applied", result
        return mutation["record_id"]

    return push


def listed(console, **query) -> list:
    page = console.page("/console/checkins", query_string=query)
    return page.select("#checkins tbody tr[data-checkin]")


def test_a_supervisor_sees_their_towns_checkins_verified_and_flagged_with_distance(
    console, check_in, sites
):
    near = check_in("dayan", DAYAN, accuracy_m=8, participants=15)
    far = check_in("dayan", DAYAN, lat=FAR_LAT, accuracy_m=25, activity="visit")
    check_in("shenzhen", SHENZHEN)

    page = console("dayan_supervisor").page("/console/checkins")
    rows = {row["data-checkin"]: row for row in page.select("#checkins tbody tr[data-checkin]")}
    assert set(rows) == {near, far}
    assert "柘坑戴村党性教育基地" not in page.select_one("#checkins").text

    verified = [td.text for td in rows[near].select("td")]
    assert verified[1] == "全域锋领党建联盟签约地" and verified[2] == "大堰镇"
    assert verified[3] == "大堰镇网格员" and verified[4] == "党史学习" and verified[5] == "15"
    assert rows[near].select_one(".badge.verified").text == "已核验"
    assert float(verified[8]) == 8.0

    site = sites[DAYAN]
    expected = distance_m(FAR_LAT, site["lon"], site["lat"], site["lon"])
    assert rows[far].select_one(".badge.flagged").text == "存疑：不在点位范围内"
    assert abs(float(rows[far].select_one("td.distance").text) - expected) < 0.2
    assert float(rows[far].select_one("td.accuracy").text) == 25.0
    assert rows[far].select("td")[4].text == "参观"

    [summary] = page.select("#by-site tbody tr[data-site]")
    assert summary["data-site"] == site["id"]
    assert [summary.select_one(f"td.{c}").text for c in ("total", "verified", "flagged")] == [
        "2",
        "1",
        "1",
    ]

    admin = console("admin").page("/console/checkins")
    assert len(admin.select("#checkins tbody tr[data-checkin]")) == 3
    assert len(admin.select("#by-site tbody tr[data-site]")) == 2


def test_filters_by_verification_site_town_route_and_china_date(
    console, check_in, sites, execute, worker
):
    near = check_in("dayan", DAYAN)
    far = check_in("dayan", DAYAN, lat=FAR_LAT)
    shenzhen = check_in("shenzhen", SHENZHEN)
    admin = console("admin")
    ids = lambda **q: {row["data-checkin"] for row in listed(admin, **q)}  # noqa: E731

    assert ids(verified="no") == {far}
    assert ids(verified="yes") == {near, shenzhen}
    assert ids(site=sites[SHENZHEN]["id"]) == {shenzhen}
    assert ids(town="dayan") == {near, far}
    [route_id] = worker.of("route")
    assert ids(route=route_id) == {near, far, shenzhen}
    assert ids(route="6f1c7a2e-8d59-4d3c-9d4f-1a2b3c4d5e6f") == set()

    # 2026-11-25 16:30 UTC is 2026-11-26 00:30 in China: it belongs to the 26th.
    execute("UPDATE checkins SET at = :at WHERE id = :id", at="2026-11-25 16:30:00+00:00", id=far)
    assert ids(date_from="2026-11-26", date_to="2026-11-26") == {near, far, shenzhen}
    assert ids(date_to="2026-11-25") == set()
    assert ids(date_from="2026-11-27") == set()

    # a supervisor filtering by another town still sees nothing of it
    dayan = console("dayan_supervisor")
    assert {row["data-checkin"] for row in listed(dayan, town="shenzhen")} == set()
    assert {row["data-checkin"] for row in listed(dayan, site=sites[SHENZHEN]["id"])} == set()


def test_bad_filters_show_the_page_with_the_reason_in_chinese(dayan_console):
    response = dayan_console.get("/console/checkins?verified=maybe&date_from=yesterday")
    assert response.status_code == 400
    assert "必须是以下之一" in response.text
    unknown = dayan_console.get("/console/checkins?sort=evil")
    assert unknown.status_code == 400 and "不允许的字段" in unknown.text
    assert dayan_console.get("/console/checkins/export.xlsx?page=0").status_code == 400


def test_checkins_page_through(console, check_in):
    for _ in range(3):
        check_in("dayan", DAYAN)
    admin = console("admin")
    admin.client.application.config["CONSOLE_PAGE_SIZE"] = 2
    first = {row["data-checkin"] for row in listed(admin)}
    second = {row["data-checkin"] for row in listed(admin, page=2)}
    assert len(first) == 2 and len(second) == 1 and not first & second
    page = admin.page("/console/checkins", query_string={"verified": "yes"})
    assert page.select_one(".pager a[rel=next]")["href"].count("verified=yes") == 1


def test_the_route_view_draws_one_numbered_circle_per_site_in_route_order(
    console, check_in, worker, sites
):
    check_in("dayan", DAYAN)
    check_in("dayan", DAYAN)
    check_in("shenzhen", SHENZHEN)
    [(route_id, route)] = worker.of("route").items()
    order = route["data"]["site_ids"]
    assert len(order) == 5  # one site per town at least

    response = console("admin").get("/console/checkins")
    assert "style=" not in response.text and "<script" not in response.text
    page = console("admin").page("/console/checkins")
    figure = page.select_one(f"figure.route[data-route='{route_id}']")
    svg = figure.select_one("svg")
    groups = svg.select("g.route-site")
    assert [g["data-site"] for g in groups] == order
    assert [g["data-order"] for g in groups] == ["1", "2", "3", "4", "5"]
    assert len(svg.select("circle")) == 5
    assert len(svg.select_one("polyline")["points"].split()) == 5
    assert groups[0].select_one("text").text.startswith("1. 全域锋领党建联盟签约地")

    radius = {g["data-site"]: float(g.circle["r"]) for g in groups}
    fill = {g["data-site"]: g.circle["fill"] for g in groups}
    counts = {g["data-site"]: int(g["data-count"]) for g in groups}
    dayan, shenzhen, xidian = (sites[c]["id"] for c in (DAYAN, SHENZHEN, "xidian_red_station"))
    assert counts[dayan] == 2 and counts[shenzhen] == 1 and counts[xidian] == 0
    assert radius[dayan] > radius[shenzhen] > radius[xidian]
    assert len({fill[dayan], fill[shenzhen], fill[xidian]}) == 3

    # every point lies inside the drawing, north up: Dayan (29.48N) above Shiliang (29.24N)
    width, height = float(svg["width"]), float(svg["height"])
    points = {g["data-site"]: (float(g.circle["cx"]), float(g.circle["cy"])) for g in groups}
    assert all(0 <= x <= width and 0 <= y <= height for x, y in points.values())
    assert points[dayan][1] < points[sites["shiliang_red_station"]["id"]][1]
    assert points[sites["xidian_red_station"]["id"]][0] > points[dayan][0]  # east is right

    # a supervisor's route shows the counts they may see: Shenzhen's are not theirs
    mine = console("dayan_supervisor").page("/console/checkins")
    mine_counts = {g["data-site"]: g["data-count"] for g in mine.select("g.route-site")}
    assert mine_counts[dayan] == "2" and mine_counts[shenzhen] == "0"


def test_the_xlsx_export_has_chinese_headers_and_the_filtered_rows(console, check_in):
    check_in("dayan", DAYAN, notes='=HYPERLINK("x")', participant_names=["王建国", "李秀英"])
    check_in("dayan", DAYAN, lat=FAR_LAT, accuracy_m=30)
    check_in("shenzhen", SHENZHEN)
    dayan = console("dayan_supervisor")

    response = dayan.get("/console/checkins/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert table[0] == HEADERS_ZH
    assert len(table) == 3  # Dayan's two, not Shenzhen's
    by_check = {row[7]: row for row in table[1:]}
    assert set(by_check) == {"已核验", "存疑：不在点位范围内"}
    flagged = by_check["存疑：不在点位范围内"]
    assert flagged[1] == "全域锋领党建联盟签约地" and flagged[2] == "大堰镇"
    assert flagged[3] == "大堰镇网格员" and flagged[4] == "党史学习" and flagged[5] == 12
    assert flagged[8] > 150 and flagged[9] == 30
    assert flagged[0] == "2026-11-26 09:12"  # China Standard Time, as the worker saw it
    assert by_check["已核验"][10] == '=HYPERLINK("x")'
    assert by_check["已核验"][6] == "王建国、李秀英"  # who came, as the worker picked them
    [text] = [c for row in sheet.iter_rows() for c in row if c.value == '=HYPERLINK("x")']
    assert text.data_type == "s"  # text, never a live formula

    only_flagged = dayan.get("/console/checkins/export.xlsx?verified=no")
    sheet = openpyxl.load_workbook(io.BytesIO(only_flagged.data)).active
    assert sheet.max_row == 2


def test_the_csv_export_opens_in_excel_and_speaks_english_when_asked(console, check_in):
    check_in("dayan", DAYAN)
    admin = console("admin")
    response = admin.get("/console/checkins/export.csv")
    assert response.status_code == 200
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == HEADERS_ZH and len(rows) == 2
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]

    admin.get("/console/lang/en")
    english = list(
        csv.reader(io.StringIO(admin.get("/console/checkins/export.csv").data.decode("utf-8-sig")))
    )
    assert english[0][:3] == ["Time", "Heritage site", "Town"]
    assert english[1][7] == "Verified"


def test_the_page_costs_the_same_with_2_or_12_checkins(queries, console, check_in):
    admin = console("admin")
    check_in("dayan", DAYAN)
    check_in("shenzhen", SHENZHEN)
    small = queries(lambda: admin.page("/console/checkins"))
    for index in range(10):
        check_in(("dayan", "shenzhen")[index % 2], (DAYAN, SHENZHEN)[index % 2])
    assert queries(lambda: admin.page("/console/checkins")) == small


def test_a_checkin_by_another_town_at_a_towns_site_is_listed_for_both_supervisors(
    console, check_in, sites
):
    """A Dayan study group at 柘坑戴村 (深甽): Dayan's check-in, seen by 深甽 too, not by 西店."""
    visit = check_in("dayan", SHENZHEN, participants=12)
    own = check_in("shenzhen", SHENZHEN)

    dayan = {row["data-checkin"]: row for row in listed(console("dayan_supervisor"))}
    shenzhen = {row["data-checkin"]: row for row in listed(console("shenzhen_supervisor"))}
    assert set(dayan) == {visit}
    assert set(shenzhen) == {visit, own}
    cells = [td.text for td in shenzhen[visit].select("td")]
    assert (
        cells[1] == "柘坑戴村党性教育基地" and cells[2] == "大堰镇" and cells[3] == "大堰镇网格员"
    )
    assert listed(console("xidian_supervisor")) == []

    # the supervisor of the person's town can filter by the other town's site
    by_site = listed(console("dayan_supervisor"), site=sites[SHENZHEN]["id"])
    assert [row["data-checkin"] for row in by_site] == [visit]


@pytest.mark.parametrize(
    ("data", "words", "english"),
    [
        ({"fix_at": "2026-11-26T09:07:00+08:00"}, "定位不是打卡时取得的", "not taken at the"),
        ({"accuracy_m": 400}, "定位精度不足", "not accurate enough"),
        ({"lat": FAR_LAT}, "不在点位范围内", "Too far from the site"),
    ],
    ids=["stale fix", "poor accuracy", "too far"],
)
def test_a_flagged_checkin_says_why_in_words(console, check_in, data, words, english):
    data = dict(data)  # the same parameters serve both databases
    visit = check_in("dayan", DAYAN, lat=data.pop("lat", None), **data)
    supervisor = console("dayan_supervisor")
    [row] = listed(supervisor)
    assert row["data-checkin"] == visit
    badge = row.select_one(".badge.flagged").text
    assert badge.startswith("存疑：") and words in badge
    assert "_" not in badge  # words, never the code
    supervisor.get("/console/lang/en")
    [row] = listed(supervisor)
    assert english in row.select_one(".badge.flagged").text


def test_a_checkin_without_a_fix_is_listed_without_distance_or_accuracy(console, login, sites):
    site = sites[DAYAN]
    [result] = login("dayan_worker").push_ok(checkin(site["id"], None, None))
    assert result["status"] == "applied"
    [row] = listed(console("dayan_supervisor"))
    assert row.select_one(".badge.flagged").text == "存疑：没有定位"
    assert row.select_one("td.distance").text == "—" and row.select_one("td.accuracy").text == "—"
    sheet = console("dayan_supervisor").get("/console/checkins/export.csv")
    [_, line] = list(csv.reader(io.StringIO(sheet.data.decode("utf-8-sig"))))
    assert line[7] == "存疑：没有定位" and line[8] == "" and line[9] == ""
