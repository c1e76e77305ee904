"""The party-member roster at the console: a town's supervisor keeps their own town's, an
admin every town's, and phones follow on their next pull. Sheets are imported after a
preview that names each bad row's problem; only good rows are added."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import Workbook
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from server.models import Member
from tests.web.console.conftest import soup

HEADER = ["姓名", "党支部", "村/社区"]
SHEET = [
    ["钱学森", "大堰村党支部", "大堰村"],
    ["", "大堰村党支部", "大堰村"],  # no name
    ["欧" * 51, "大堰村党支部", "大堰村"],  # too long
    ["钱学森", "大堰村党支部", "大堰村"],  # repeats line 2
    ["孙立人", "箭岭村党支部", "箭岭村"],
]


def csv_file(rows: list[list[str]], encoding: str = "utf-8-sig") -> io.BytesIO:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return io.BytesIO(text.getvalue().encode(encoding))


def xlsx_file(rows: list[list[str]]) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def member_rows(page) -> dict[str, str]:
    """Name -> state, as the roster table shows it."""
    return {
        tr.select("td")[0].text: tr["data-active"] for tr in page.select("#members tr[data-member]")
    }


def member_id(rows, name: str) -> str:
    return rows(Member, name=name)[0].id


def upload(user, data: io.BytesIO, filename: str):
    return user.post(
        "/console/members/import",
        {"file": (data, filename)},
        content_type="multipart/form-data",
    )


def test_a_supervisor_sees_only_their_towns_roster(console):
    page = console("dayan_supervisor").page("/console/members")

    names = member_rows(page)
    assert len(names) == 15 and "王建国" in names
    assert "黄海燕" not in names  # 深甽's


def test_a_supervisor_adds_edits_and_deactivates_and_the_phone_follows(console, rows, worker):
    supervisor = console("dayan_supervisor")

    added = supervisor.post(
        "/console/members", {"name": "钱学森", "branch": "大堰村党支部", "village": "大堰村"}
    )
    assert added.status_code == 302
    new_id = member_id(rows, "钱学森")
    assert rows(Member, id=new_id)[0].town == "dayan"
    edited = supervisor.post(
        f"/console/members/{new_id}",
        {"name": "钱学森", "branch": "常照村党支部", "village": "常照村"},
    )
    assert edited.status_code == 302
    worker.sync()
    assert worker.of("member")[new_id]["data"]["branch"] == "常照村党支部"

    off = supervisor.post(f"/console/members/{new_id}/active", {"active": "false"})

    assert off.status_code == 302
    assert "钱学森" not in member_rows(supervisor.page("/console/members"))
    assert member_rows(supervisor.page("/console/members?inactive=true"))["钱学森"] == "no"
    worker.sync()
    assert worker.of("member")[new_id]["data"]["active"] is False
    back = supervisor.post(f"/console/members/{new_id}/active", {"active": "true"})
    assert back.status_code == 302
    worker.sync()
    assert worker.of("member")[new_id]["data"]["active"] is True


def test_a_supervisor_cannot_touch_another_towns_member(console, rows):
    supervisor = console("dayan_supervisor")
    theirs = member_id(rows, "黄海燕")  # 深甽

    edit = supervisor.post(
        f"/console/members/{theirs}", {"name": "改名", "branch": "", "village": ""}
    )
    off = supervisor.post(f"/console/members/{theirs}/active", {"active": "false"})
    into_other_town = supervisor.post("/console/members", {"name": "钱学森", "town": "shenzhen"})

    assert edit.status_code == 404 and off.status_code == 404
    assert into_other_town.status_code == 422
    member = rows(Member, id=theirs)[0]
    assert member.name == "黄海燕" and member.active
    assert rows(Member, name="钱学森") == []


def test_an_admin_manages_every_towns_roster(admin_console, rows, login):
    theirs = member_id(rows, "黄海燕")
    shenzhen = login("shenzhen_worker")
    shenzhen.sync()

    response = admin_console.post(
        f"/console/members/{theirs}",
        {"name": "黄海燕", "branch": "龙宫村党支部", "village": "龙宫村", "town": "shenzhen"},
    )
    added = admin_console.post(
        "/console/members", {"name": "钱学森", "branch": "", "village": "", "town": "xiaojiang"}
    )

    assert response.status_code == 302 and added.status_code == 302
    assert rows(Member, id=theirs)[0].branch == "龙宫村党支部"
    assert rows(Member, name="钱学森")[0].town == "xiaojiang"
    shenzhen.sync()
    assert shenzhen.of("member")[theirs]["data"]["village"] == "龙宫村"
    towns = {
        tr.select("td")[3].text
        for tr in admin_console.page("/console/members").select("#members tr[data-member]")
    }
    assert len(towns) > 1


@pytest.mark.parametrize(("make", "filename"), [(csv_file, "名册.csv"), (xlsx_file, "名册.xlsx")])
def test_an_import_previews_each_bad_rows_problem_then_adds_only_the_good_rows(
    console, rows, worker, make, filename
):
    supervisor = console("dayan_supervisor")

    preview = upload(supervisor, make([HEADER, *SHEET]), filename)

    assert preview.status_code == 200
    page = soup(preview)
    problems = {
        int(tr["data-line"]): tr.select("td")[-1].text
        for tr in page.select("#import-preview tr[data-line]")
    }
    assert problems == {
        2: "可导入",
        3: "缺少姓名",
        4: "姓名超过 50 个字",
        5: "与表格中前面的行重复",
        6: "可导入",
    }
    assert "2 行可以导入，3 行有问题" in page.select_one("#import-summary").text
    assert rows(Member, name="钱学森") == []  # a preview writes nothing

    payload = page.select_one("#import-confirm input[name=rows]")["value"]
    confirmed = supervisor.post("/console/members/import/confirm", {"rows": payload})

    assert confirmed.status_code == 302
    assert [m.town for m in rows(Member, name="钱学森")] == ["dayan"]
    assert [m.branch for m in rows(Member, name="孙立人")] == ["箭岭村党支部"]
    assert len(rows(Member, town="dayan")) == 17
    worker.sync()
    assert {"钱学森", "孙立人"} <= {c["data"]["name"] for c in worker.of("member").values()}

    again = upload(supervisor, make([HEADER, *SHEET]), filename)
    assert "已有此人" in soup(again).select_one("tr[data-line='2']").text


def test_an_admins_sheet_names_the_town_of_each_row(admin_console, rows):
    sheet = csv_file(
        [
            [*HEADER, "乡镇"],
            ["钱学森", "中溪口村党支部", "中溪口村", "小将镇"],
            ["孙立人", "", "", "火星镇"],
            ["赵一曼", "", "", ""],
        ],
        encoding="gb18030",
    )

    page = soup(upload(admin_console, sheet, "roster.csv"))

    lines = {int(tr["data-line"]): tr.select("td")[-1].text for tr in page.select("tr[data-line]")}
    assert lines == {2: "可导入", 3: "没有这个乡镇", 4: "缺少乡镇"}
    payload = page.select_one("#import-confirm input[name=rows]")["value"]
    assert (
        admin_console.post("/console/members/import/confirm", {"rows": payload}).status_code == 302
    )
    assert [m.town for m in rows(Member, name="钱学森")] == ["xiaojiang"]
    assert rows(Member, name="孙立人") == [] and rows(Member, name="赵一曼") == []


def upload_in_memory(user, data: io.BytesIO, filename: str):
    """A large upload, encoded here in memory: the test client would spool it to a
    temporary file it never closes."""
    stream, length, boundary = stream_encode_multipart(
        {"file": FileStorage(data, filename), "csrf_token": user.csrf}, use_tempfile=False
    )
    return user.client.post(
        "/console/members/import",
        data=stream.read(),
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_a_sheet_too_large_or_unreadable_is_refused_with_a_reason(console, rows):
    supervisor = console("dayan_supervisor")
    too_many = [HEADER] + [[f"党员{n}", "", ""] for n in range(2001)]

    big = upload(supervisor, csv_file(too_many), "big.csv")
    broken = upload(supervisor, io.BytesIO(b"PK\x03\x04 not a workbook"), "broken.xlsx")
    no_name = upload(supervisor, csv_file([["党支部"], ["大堰村党支部"]]), "x.csv")
    huge = upload_in_memory(supervisor, io.BytesIO(b"a" * (2 * 1024 * 1024 + 1)), "huge.csv")

    assert big.status_code == 422 and "超过 2000 行" in big.text
    assert broken.status_code == 422 and "无法读取该文件" in broken.text
    assert no_name.status_code == 422 and "没有“姓名”列" in no_name.text
    assert huge.status_code == 422 and "超过 2 MB" in huge.text
    assert len(rows(Member, town="dayan")) == 15


def test_an_xlsx_that_would_unpack_to_too_much_is_refused(console):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b" " * (60 * 1024 * 1024))
    bomb.seek(0)

    response = upload(console("dayan_supervisor"), bomb, "名册.xlsx")

    assert response.status_code == 422 and "解压后超过 50 MB" in response.text


def test_a_confirmation_is_checked_again_and_keeps_to_the_supervisors_town(console, rows):
    supervisor = console("dayan_supervisor")
    forged = '[["姓名","党支部","村/社区","乡镇"],["钱学森","","","深甽镇"],["孙立人","","",""]]'

    response = supervisor.post("/console/members/import/confirm", {"rows": forged})

    assert response.status_code == 302
    assert rows(Member, name="钱学森") == []
    assert [m.town for m in rows(Member, name="孙立人")] == ["dayan"]
