"""The console's inboxes: work the server refused, and values that lost a field merge.

Every story starts on the phones, through the real sync protocol, and ends either in the
supervisor's bookkeeping (a rejection handled) or in the feed (a conflict resolved).
"""

from __future__ import annotations

import json
from typing import Any

from tests.factories import DeviceClient, case_create, case_update
from tests.web.console.conftest import ConsoleUser, soup


def refused_create(phone: DeviceClient, **data: Any) -> dict:
    """The phone pushes a case the server refuses (an unknown category)."""
    mutation = case_create(category="no_such_category", title="宅基地边界争议", **data)
    [result] = phone.push_ok(mutation)
    assert result["status"] == "rejected", result
    return mutation


def row_of(page: Any, record_id: str) -> Any:
    return next(
        tr for tr in page.select("#rejections tbody tr[data-rejection]") if record_id in tr.text
    )


def test_a_refused_case_reaches_its_towns_supervisor_with_reason_and_data(
    login, dayan_console: ConsoleUser, console, rows
):
    from server.models import RejectedIntent, User

    phone = login("dayan_worker")
    mutation = refused_create(phone, parties=[{"name": "陈阿宝", "role": "applicant"}])

    page = dayan_console.page("/console/rejections")
    row = row_of(page, mutation["record_id"])
    assert "大堰镇网格员" in row.text
    assert "测试手机" in row.text  # the device the worker used
    assert "登记案件" in row.text and "case.create" in row.text
    assert "提交的数据有误" in row.select_one(".reason").text
    assert "类别" in row.select_one(".reason").text
    assert "未知代码" in row.select_one(".reason").text  # the details, in Chinese too
    data = json.loads(row.select_one("pre.data").text)
    assert data["title"] == "宅基地边界争议"
    assert data["parties"] == [{"name": "陈阿宝", "role": "applicant"}]

    # Another town's supervisor neither sees it nor can close it; the admin sees it.
    shenzhen = console("shenzhen_supervisor")
    assert mutation["record_id"] not in shenzhen.page("/console/rejections").text
    [rejection] = rows(RejectedIntent, record_id=mutation["record_id"])
    assert shenzhen.post(f"/console/rejections/{rejection.id}/handled").status_code == 404
    assert mutation["record_id"] in console("admin").page("/console/rejections").text

    # Without the form's token nothing happens.
    assert (
        dayan_console.post(f"/console/rejections/{rejection.id}/handled", csrf=False).status_code
        == 400
    )
    assert rows(RejectedIntent, id=rejection.id)[0].status == "open"

    # The Dayan supervisor has helped the worker and closes it.
    done = dayan_console.post(f"/console/rejections/{rejection.id}/handled")
    assert done.status_code == 302
    after = dayan_console.page(done.headers["Location"])
    assert "已标记为已处理" in after.select_one(".message.ok").text
    assert not after.select("#rejections tbody tr[data-rejection]")
    [closed] = rows(RejectedIntent, id=rejection.id)
    [supervisor] = rows(User, username="dayan_supervisor")
    assert (closed.status, closed.handled_by) == ("handled", supervisor.id)
    assert closed.handled_at is not None
    handled = row_of(
        dayan_console.page("/console/rejections?status=handled"), mutation["record_id"]
    )
    assert "大堰镇管理员 已处理" in handled.text
    assert not handled.select("form")
    # Closing it again changes nothing.
    assert dayan_console.post(f"/console/rejections/{rejection.id}/handled").status_code == 302
    assert rows(RejectedIntent, id=rejection.id)[0].handled_at == closed.handled_at


def test_the_rejection_inbox_speaks_english_and_pages(login, dayan_console: ConsoleUser, app):
    app.config["CONSOLE_PAGE_SIZE"] = 2
    phone = login("dayan_worker")
    for _ in range(3):
        refused_create(phone)
    dayan_console.client.set_cookie("fengling_lang", "en")
    first = dayan_console.page("/console/rejections")
    assert len(first.select("#rejections tbody tr[data-rejection]")) == 2
    assert "Some fields are invalid" in first.select_one(".reason").text
    assert "Category" in first.select_one(".reason").text
    assert "Register a case" in first.text
    second = dayan_console.page(first.select_one(".pager a[rel=next]")["href"])
    assert len(second.select("#rejections tbody tr[data-rejection]")) == 1
    assert dayan_console.get("/console/rejections?status=lost").status_code == 400
    assert dayan_console.get("/console/rejections?colour=red").status_code == 400


def two_phones_edit(
    login, field: str, kept: Any, incoming: Any, town: str = "dayan"
) -> tuple[str, str, DeviceClient]:
    """The supervisor's phone and then the worker's phone change one field of the same
    version; the worker's value loses. Returns (case id, conflict id, worker's phone)."""
    first, second = login(f"{town}_supervisor"), login(f"{town}_worker")
    create = case_create(town)
    first.push_ok(create)
    first.push_ok(case_update(create["record_id"], 1, **{field: kept}))
    [merged] = second.push_ok(case_update(create["record_id"], 1, **{field: incoming}))
    [conflict] = merged["conflicts"]
    return create["record_id"], conflict["conflict_id"], second


def test_supervisor_takes_the_value_set_aside_and_the_authors_phone_learns_it(
    login, dayan_console: ConsoleUser, rows
):
    from server.models import Case, MergeConflict

    case_id, conflict_id, author = two_phones_edit(login, "title", "镇里改的标题", "网格员改的标题")
    author.sync()
    assert author.of("conflict")[conflict_id]["data"]["status"] == "open"

    page = dayan_console.page("/console/conflicts")
    item = page.select_one(f"#conflict-{conflict_id}")
    assert item is not None
    link = item.select_one("h2 a")
    assert link["href"] == f"/console/cases/{case_id}"
    assert "镇里改的标题" in link.text and "DY" in link.text
    assert "标题" in item.select_one("h2").text
    assert item.select_one(".kept").text == "镇里改的标题"
    assert item.select_one(".incoming").text == "网格员改的标题"
    assert item.select_one(".who").text == "大堰镇网格员"
    assert item.select_one(".device").text == "测试手机"
    assert item.select_one("form.new-value input[name=value]")["value"] == "镇里改的标题"

    done = dayan_console.post(f"/console/conflicts/{conflict_id}/resolve", {"choice": "incoming"})
    assert done.status_code == 302, done.text[:500]
    after = dayan_console.page(done.headers["Location"])
    assert "已采用被搁置的值" in after.select_one(".message.ok").text
    assert after.select_one(f"#conflict-{conflict_id}") is None
    assert rows(Case, id=case_id)[0].title == "网格员改的标题"
    [settled] = rows(MergeConflict, id=conflict_id)
    assert (settled.status, settled.resolution) == ("resolved", "incoming")

    # The author's phone pulls the new title and how its conflict was settled.
    changes = author.sync()
    assert author.of("case")[case_id]["data"]["title"] == "网格员改的标题"
    outcome = author.of("conflict")[conflict_id]["data"]
    assert (outcome["status"], outcome["resolution"]) == ("resolved", "incoming")
    assert {c["entity"] for c in changes} >= {"case", "conflict"}

    resolved = dayan_console.page("/console/conflicts?status=resolved")
    shown = resolved.select_one(f"#conflict-{conflict_id}")
    assert "采用被搁置的值" in shown.select_one(".outcome").text
    assert "大堰镇管理员" in shown.select_one(".outcome").text
    assert not shown.select("form")

    # Settling it twice is refused as already done.
    again = dayan_console.post(f"/console/conflicts/{conflict_id}/resolve", {"choice": "keep"})
    assert again.status_code == 409
    assert "此事项已被处理" in soup(again).select_one(".message.error").text


def test_keeping_the_current_value_changes_no_case_but_tells_the_author(
    login, dayan_console: ConsoleUser, rows
):
    from server.models import Case, MergeConflict

    case_id, conflict_id, author = two_phones_edit(login, "severity", "high", "low")
    item = dayan_console.page("/console/conflicts").select_one(f"#conflict-{conflict_id}")
    assert (item.select_one(".kept").text, item.select_one(".incoming").text) == ("严重", "一般")
    assert item.select_one("form.new-value select[name=value] option[selected]")["value"] == "high"
    version = rows(Case, id=case_id)[0].version
    author.sync()

    assert (
        dayan_console.post(
            f"/console/conflicts/{conflict_id}/resolve", {"choice": "keep"}
        ).status_code
        == 302
    )
    assert rows(Case, id=case_id)[0].version == version
    assert rows(MergeConflict, id=conflict_id)[0].resolution == "kept"
    changes = author.sync()
    assert [c["entity"] for c in changes] == ["conflict"]
    assert changes[0]["data"]["resolution"] == "kept"


def test_writing_a_new_value_as_json_and_refusing_bad_input(
    login, dayan_console: ConsoleUser, rows
):
    from server.models import Case, Change, MergeConflict

    kept = [{"name": "李某", "role": "applicant"}]
    incoming = [{"name": "王某", "role": "respondent"}]
    case_id, conflict_id, author = two_phones_edit(login, "parties", kept, incoming)
    item = dayan_console.page("/console/conflicts").select_one(f"#conflict-{conflict_id}")
    assert "申请人 李某" in item.select_one(".kept").text
    assert "被申请人 王某" in item.select_one(".incoming").text
    assert json.loads(item.select_one("form.new-value textarea[name=value]").text) == kept
    path = f"/console/conflicts/{conflict_id}/resolve"
    changes_before = len(rows(Change))

    # Not JSON: a clear reason, the typed text kept, nothing written.
    broken = dayan_console.post(path, {"choice": "new", "value": '[{"name": "李某"'})
    assert broken.status_code == 422
    page = soup(broken)
    item = page.select_one(f"#conflict-{conflict_id}")
    assert "不是有效的 JSON" in item.select_one(".field-error").text
    assert item.select_one("textarea[name=value]").text == '[{"name": "李某"'
    # JSON, but not valid parties: refused by the same rules as a phone's edit.
    invalid = dayan_console.post(path, {"choice": "new", "value": '[{"name": "李某"}]'})
    assert invalid.status_code == 422
    assert "必填项" in soup(invalid).select_one(f"#conflict-{conflict_id}").text
    # Fields the form does not have are refused too.
    extra = dayan_console.post(path, {"choice": "new", "value": "[]", "field": "title"})
    assert extra.status_code == 422
    assert rows(MergeConflict, id=conflict_id)[0].status == "open"
    assert rows(Case, id=case_id)[0].parties == kept
    assert len(rows(Change)) == changes_before

    both = [{"name": "李某", "role": "applicant"}, {"name": "王某", "role": "respondent"}]
    done = dayan_console.post(path, {"choice": "new", "value": json.dumps(both)})
    assert done.status_code == 302
    assert "已改为新值" in dayan_console.page(done.headers["Location"]).text
    assert rows(Case, id=case_id)[0].parties == both
    author.sync()
    assert author.of("case")[case_id]["data"]["parties"] == both
    assert author.of("conflict")[conflict_id]["data"]["resolution"] == "new"


def test_a_new_title_must_not_be_empty(login, dayan_console: ConsoleUser, rows):
    from server.models import Case

    case_id, conflict_id, _ = two_phones_edit(login, "title", "甲", "乙")
    path = f"/console/conflicts/{conflict_id}/resolve"
    assert dayan_console.post(path, {"choice": "new", "value": ""}).status_code == 422
    assert dayan_console.post(path, {"choice": "maybe"}).status_code == 422
    assert rows(Case, id=case_id)[0].title == "甲"
    assert dayan_console.post(path, {"choice": "new", "value": "甲乙合并"}).status_code == 302
    assert rows(Case, id=case_id)[0].title == "甲乙合并"


def test_only_towns_the_case_involves_see_and_resolve_its_conflicts(
    login, console, dayan_console: ConsoleUser, rows
):
    from server.models import MergeConflict

    case_id, conflict_id, _ = two_phones_edit(login, "title", "甲", "乙")
    shenzhen = console("shenzhen_supervisor")
    assert shenzhen.page("/console/conflicts").select_one(f"#conflict-{conflict_id}") is None
    refused = shenzhen.post(f"/console/conflicts/{conflict_id}/resolve", {"choice": "incoming"})
    assert refused.status_code == 404
    assert (
        dayan_console.post(
            f"/console/conflicts/{conflict_id}/resolve", {"choice": "incoming"}, csrf=False
        ).status_code
        == 400
    )
    assert (
        dayan_console.post(
            "/console/conflicts/00000000-0000-4000-8000-000000000000/resolve", {"choice": "keep"}
        ).status_code
        == 404
    )
    assert rows(MergeConflict, id=conflict_id)[0].status == "open"
    admin = console("admin")
    assert admin.page("/console/conflicts").select_one(f"#conflict-{conflict_id}") is not None
    assert (
        admin.post(f"/console/conflicts/{conflict_id}/resolve", {"choice": "incoming"}).status_code
        == 302
    )
    assert rows(MergeConflict, id=conflict_id)[0].resolution == "incoming"


def test_workers_cannot_open_the_inboxes(console, app):
    client = app.test_client()
    for path in ("/console/rejections", "/console/conflicts"):
        response = client.get(path)
        assert response.status_code == 302 and "/console/login" in response.headers["Location"]


def test_a_case_changed_after_the_page_was_shown_is_not_overwritten(
    login, dayan_console: ConsoleUser, rows
):
    """The page offered the value set aside while a phone changed the title again: taking it
    now would silently lose that newer title, so the console asks to look again."""
    from server.models import Case, MergeConflict

    case_id, conflict_id, _ = two_phones_edit(login, "title", "甲", "乙")
    page = dayan_console.page("/console/conflicts")
    form = page.select_one(f"#conflict-{conflict_id} form.decide")
    shown_version = form.select_one("input[name=base_version]")["value"]
    assert page.select_one(f"#conflict-{conflict_id} .current").text.startswith("甲")
    login("dayan_supervisor").push_ok(case_update(case_id, 2, title="丙"))

    stale = dayan_console.post(
        f"/console/conflicts/{conflict_id}/resolve",
        {"choice": "incoming", "base_version": shown_version},
    )
    assert stale.status_code == 409
    assert "案件已被他人更改" in stale.text
    assert rows(Case, id=case_id)[0].title == "丙"
    assert rows(MergeConflict, id=conflict_id)[0].status == "open"
    fresh = dayan_console.page("/console/conflicts")
    assert fresh.select_one(f"#conflict-{conflict_id} .current").text.startswith("丙")
