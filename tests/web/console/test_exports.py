"""Exports of the filtered case queue: the rows the queue shows, over all its pages, as XLSX
or CSV that Excel opens in Chinese, and never a case outside the supervisor's towns."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from flask import Flask

from server.web.console import exports
from server.web.console.tables import FORMATS
from tests.factories import assign, case_create, transition
from tests.web.console.conftest import soup

HEADERS_ZH = [
    "编号",
    "标题",
    "状态",
    "类别",
    "严重程度",
    "主办乡镇",
    "协办乡镇",
    "承办人",
    "登记人",
    "登记时间",
    "办理期限",
    "是否超期",
    "是否跨镇",
    "当事人",
    "情况描述",
]
HEADERS_EN = [
    "Number",
    "Title",
    "Status",
    "Category",
    "Severity",
    "Lead town",
    "Co-handling towns",
    "Assignee",
    "Reported by",
    "Registered",
    "Due",
    "Overdue",
    "Cross-town",
    "Parties",
    "Description",
]


def sheet_rows(data: bytes) -> list[list]:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.fixture
def cases(login) -> dict[str, dict]:
    """Dayan registers three cases (one co-handled with Shenzhen) and accepts one, assigned
    to its worker; Xidian registers one of its own."""
    worker, supervisor = login("dayan_worker"), login("dayan_supervisor")
    made = {
        "land": case_create(title="山林界址争议"),
        "water": case_create(
            title="跨镇引水纠纷",
            category="water",
            involved_towns=["shenzhen"],
            severity="high",
            description='=HYPERLINK("x")',
        ),
        "roads": case_create(title="村道占用", category="roads"),
        "xidian": case_create("xidian", title="西店渔港纠纷"),
    }
    worker.push_ok(made["land"], made["water"], made["roads"])
    login("xidian_worker").push_ok(made["xidian"])
    supervisor.push_ok(
        transition(made["roads"]["record_id"], "registered", "accepted"),
        assign(made["roads"]["record_id"], worker.user["id"]),
    )
    return made


def test_a_filtered_xlsx_has_chinese_headers_and_exactly_the_filtered_cases(dayan_console, cases):
    response = dayan_console.get(
        "/console/cases/export.xlsx?status=registered&sort=number&dir=asc&page=2"
    )
    assert response.status_code == 200
    assert response.mimetype == FORMATS["xlsx"].split(";")[0]
    assert "attachment" in response.headers["Content-Disposition"]
    assert "filename*=UTF-8''%E6%A1%88%E4%BB%B6-" in response.headers["Content-Disposition"]

    header, *rows = sheet_rows(response.data)
    assert header == HEADERS_ZH
    assert [r[1] for r in rows] == ["山林界址争议", "跨镇引水纠纷"]  # page=2 is ignored
    land, water = (dict(zip(HEADERS_ZH, r, strict=True)) for r in rows)
    assert land["编号"] < water["编号"] and land["编号"].startswith("DY")
    assert (land["状态"], land["类别"], land["严重程度"]) == ("登记", "山林土地权属", "较重")
    assert (land["主办乡镇"], land["协办乡镇"], land["是否跨镇"]) == ("大堰镇", None, "否")
    assert (water["协办乡镇"], water["是否跨镇"], water["是否超期"]) == ("深甽镇", "是", "否")
    assert land["登记人"] and land["承办人"] is None
    assert land["当事人"] == "李某（申请人）、王某（被申请人）"
    assert water["情况描述"] == '=HYPERLINK("x")'
    cells = openpyxl.load_workbook(io.BytesIO(response.data)).active.iter_rows()
    [text] = [c for row in cells for c in row if c.value == '=HYPERLINK("x")']
    assert text.data_type == "s"  # text, never run as a formula
    assert len(land["登记时间"]) == 16 and len(land["办理期限"]) == 10


def test_in_english_with_the_lang_cookie(dayan_console, cases):
    dayan_console.client.set_cookie("fengling_lang", "en")
    response = dayan_console.get("/console/cases/export.xlsx?status=accepted")
    header, *rows = sheet_rows(response.data)
    assert header == HEADERS_EN
    [roads] = [dict(zip(HEADERS_EN, r, strict=True)) for r in rows]
    assert (roads["Title"], roads["Status"], roads["Category"]) == (
        "村道占用",
        "Accepted",
        "Roads and access",
    )
    assert (roads["Lead town"], roads["Severity"], roads["Cross-town"]) == ("Dayan", "Medium", "No")
    assert roads["Assignee"] == roads["Reported by"] and roads["Assignee"]
    assert roads["Parties"] == "李某 (Applicant)、王某 (Respondent)"


def test_csv_begins_with_the_bom_and_round_trips(dayan_console, cases):
    response = dayan_console.get("/console/cases/export.csv?category=water")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    header, *rows = csv_rows(response.data)
    assert header == HEADERS_ZH
    assert [(r[1], r[5], r[6]) for r in rows] == [("跨镇引水纠纷", "大堰镇", "深甽镇")]


def test_a_supervisor_never_exports_another_towns_cases(console, cases):
    dayan = csv_rows(console("dayan_supervisor").get("/console/cases/export.csv").data)
    assert {r[1] for r in dayan[1:]} == {"山林界址争议", "跨镇引水纠纷", "村道占用"}
    asked = csv_rows(console("dayan_supervisor").get("/console/cases/export.csv?town=xidian").data)
    assert asked[1:] == []

    shenzhen = csv_rows(console("shenzhen_supervisor").get("/console/cases/export.csv").data)
    assert [r[1] for r in shenzhen[1:]] == ["跨镇引水纠纷"]  # the case it co-handles

    everything = sheet_rows(console("admin").get("/console/cases/export.xlsx").data)
    assert len(everything) == 1 + 4


def test_all_pages_are_exported_in_chunks(app: Flask, dayan_console, worker, monkeypatch):
    app.config["CONSOLE_PAGE_SIZE"] = 2
    monkeypatch.setattr(exports, "CHUNK", 2)
    worker.push_ok(*[case_create(title=f"纠纷{i}") for i in range(5)])
    assert (
        "纠纷"
        in dayan_console.page("/console/cases?sort=number").select_one("#queue tbody").get_text()
    )
    rows = sheet_rows(dayan_console.get("/console/cases/export.xlsx?sort=number&dir=asc").data)
    assert [r[1] for r in rows[1:]] == [f"纠纷{i}" for i in range(5)]


def test_the_queue_links_its_filters_to_the_export(dayan_console, cases):
    page = dayan_console.page("/console/cases?status=registered&category=water")
    links = {a.get_text(): a["href"] for a in page.select(".exports a")}
    assert set(links) == {"XLSX", "CSV"}
    rows = sheet_rows(dayan_console.get(links["XLSX"]).data)
    assert [r[1] for r in rows[1:]] == ["跨镇引水纠纷"]


def test_a_bad_filter_is_refused_with_a_translated_message(dayan_console, cases):
    response = dayan_console.get("/console/cases/export.xlsx?status=lost")
    assert response.status_code == 400
    message = soup(response).select_one("[role=alert]").get_text()
    assert "筛选条件有误" in message and "状态" in message and "必须是以下之一" in message

    dayan_console.client.set_cookie("fengling_lang", "en")
    response = dayan_console.get("/console/cases/export.csv?colour=red")
    assert response.status_code == 400
    assert "The filters are invalid" in response.text and "Unknown field." in response.text


def test_signing_in_is_required(client):
    response = client.get("/console/cases/export.xlsx?status=registered")
    assert response.status_code == 302
    assert "/console/login" in response.headers["Location"]
    assert client.get("/console/cases/export.pdf").status_code == 404


def test_the_query_count_does_not_grow_with_the_rows(queries, dayan_console, worker):
    def export() -> None:
        assert dayan_console.get("/console/cases/export.csv").data

    worker.push_ok(case_create(), case_create())
    few = queries(export)
    worker.push_ok(*[case_create(involved_towns=["xidian"]) for _ in range(8)])
    assert queries(export) == few


def test_text_with_control_characters_pasted_on_a_phone_still_exports(dayan_console, login):
    login("dayan_worker").push_ok(case_create(title="标题\x0b有\x1b控制符"))
    xlsx = dayan_console.get("/console/cases/export.xlsx")
    assert xlsx.status_code == 200
    assert sheet_rows(xlsx.data)[1][1] == "标题有控制符"
    csv_file = dayan_console.get("/console/cases/export.csv")
    assert csv_rows(csv_file.data)[1][1] == "标题\x0b有\x1b控制符"


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_date_out_of_range_is_a_clear_refusal_not_a_crash(dayan_console, day):
    for path in (
        "/console/cases",
        "/console/cases/export.csv",
        "/console/stats",
        "/console/checkins",
    ):
        for name in ("date_from", "date_to"):
            response = dayan_console.get(path, query_string={name: day})
            assert response.status_code == 400, (path, name)
            assert "须在 2000-01-01 到 2100-12-31 之间" in response.text, (path, name)
