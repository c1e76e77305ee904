"""The case page and its actions; every action reaches the phones in the feed."""

from __future__ import annotations

import hashlib

from tests.factories import case_event, case_update, transition
from tests.photo_files import WHERE, jpeg
from tests.web.console.conftest import soup

JPEG = jpeg(())


def test_the_case_page_shows_fields_parties_timeline_and_audit(dayan_console, report, login):
    case_id = report(
        title="山林界址争议",
        description="两村交界处毛竹采伐权属不清",
        parties=[{"name": "陈阿宝", "role": "applicant", "phone": "13800000000"}],
    )
    phone = login("dayan_worker")
    phone.push_ok(case_event(case_id, "mediation", "双方同意再议"))
    page = dayan_console.page(f"/console/cases/{case_id}")

    assert "山林界址争议" in page.select_one("h1").text
    assert "两村交界处毛竹采伐权属不清" in page.select_one("#fields").text
    assert "陈阿宝" in page.select_one("#fields table").text
    assert "申请人" in page.select_one("#fields table").text
    call = page.select_one("#fields table a[href^='tel:']")
    assert (call["href"], call.text) == ("tel:13800000000", "13800000000")  # tap to call
    timeline = page.select("#timeline li[data-kind]")
    assert [li["data-kind"] for li in timeline] == ["mediation"]
    assert "双方同意再议" in timeline[0].text
    audit = page.select("#audit tbody tr")
    actions = [row.select("td")[3].text for row in audit]
    assert actions == ["case_event.create", "case.create"]
    assert "大堰镇网格员" in audit[-1].text
    assert "测试手机" in audit[-1].text  # the device it came from


def test_photos_not_yet_uploaded_are_marked_pending(dayan_console, report, login):
    stored, missing = JPEG, jpeg((), seed=9)
    hashes = [hashlib.sha256(b).hexdigest() for b in (stored, missing)]
    case_id = report(photos=hashes)
    phone = login("dayan_worker")
    put = phone.client.put(
        f"/api/v1/blobs/{hashes[0]}",
        data=stored,
        headers={**phone.headers, "Content-Type": "image/jpeg"},
    )
    assert put.status_code == 201
    page = dayan_console.page(f"/console/cases/{case_id}")
    [image] = page.select("#fields .photos img")
    assert hashes[0] in image["src"]
    assert [p["data-photo"] for p in page.select(".photo-pending")] == [hashes[1]]
    served = dayan_console.get(image["src"])
    assert served.data.startswith(b"\xff\xd8\xff")
    assert "no-store" in served.headers["Cache-Control"]  # not left in a shared PC's cache


def test_a_photo_named_by_hash_alone_is_not_shown_in_the_console(console, report, login):
    """Shenzhen's worker names the hash of a Dayan photo in a Shenzhen case: Shenzhen's
    supervisor sees it as not uploaded, and the photo route refuses it."""
    photo = jpeg(seed=7)
    digest = hashlib.sha256(photo).hexdigest()
    dayan = login("dayan_worker")
    headers = {**dayan.headers, "Content-Type": "image/jpeg"}
    assert dayan.client.put(f"/api/v1/blobs/{digest}", data=photo, headers=headers).status_code
    report("dayan", photos=[digest])
    case_id = report("shenzhen", photos=[digest])
    supervisor = console("shenzhen_supervisor")
    page = supervisor.page(f"/console/cases/{case_id}")
    assert page.select("#fields .photos img") == []
    assert [p["data-photo"] for p in page.select(".photo-pending")] == [digest]
    served = supervisor.get(f"/console/photos/{digest}")
    assert served.status_code == 404 and WHERE not in served.data
    # Dayan's supervisor sees Dayan's case, whose naming counts: the photo, without GPS.
    dayan_view = console("dayan_supervisor").get(f"/console/photos/{digest}")
    assert dayan_view.status_code == 200 and WHERE not in dayan_view.data


def test_accept_assign_mediate_resolve_close_and_follow_up_reach_the_phone(
    dayan_console, report, login, rows
):
    from server.models import User

    case_id = report()
    phone = login("dayan_worker")
    phone.sync()
    worker_id = next(u.id for u in rows(User, username="dayan_worker"))

    for to in ("accepted",):
        assert (
            dayan_console.post(
                f"/console/cases/{case_id}/transition", {"from": "registered", "to": to}
            ).status_code
            == 302
        )
    assign = dayan_console.post(f"/console/cases/{case_id}/assign", {"assignee": worker_id})
    assert assign.status_code == 302
    for frm, to in (("accepted", "mediating"), ("mediating", "resolved"), ("resolved", "closed")):
        response = dayan_console.post(
            f"/console/cases/{case_id}/transition", {"from": frm, "to": to, "note": f"到{to}"}
        )
        assert response.status_code == 302, response.text[:500]
    visit = dayan_console.post(
        f"/console/cases/{case_id}/events", {"kind": "follow_up", "body": "回访：双方满意"}
    )
    assert visit.status_code == 302
    page = dayan_console.page(visit.headers["Location"])
    assert "已保存" in page.select_one(".message.ok").text

    phone.sync()
    case = phone.of("case")[case_id]["data"]
    assert case["status"] == "closed" and case["assignee"] == worker_id
    kinds = sorted(e["data"]["kind"] for e in phone.of("case_event").values())
    assert kinds == [
        "assignment",
        "follow_up",
        "status_change",
        "status_change",
        "status_change",
        "status_change",
    ]
    audit = page.select("#audit tbody tr")
    assert all("管理台" in row.select("td")[2].text for row in audit[:-1])


def test_escalation_to_joint_enforcement_notifies_the_involved_towns(console, report, login):
    case_id = report(involved_towns=["shenzhen"])
    dayan = console("dayan_supervisor")
    dayan.post(f"/console/cases/{case_id}/transition", {"from": "registered", "to": "accepted"})
    response = dayan.post(
        f"/console/cases/{case_id}/transition",
        {"from": "accepted", "to": "escalated", "note": "提交五镇联合执法"},
    )
    assert response.status_code == 302

    shenzhen_phone = login("shenzhen_worker")
    shenzhen_phone.sync()
    assert shenzhen_phone.of("case")[case_id]["data"]["status"] == "escalated"
    escalations = [
        e for e in shenzhen_phone.of("case_event").values() if e["data"]["kind"] == "escalation"
    ]
    assert escalations[0]["data"]["body"] == "提交五镇联合执法"
    tile = (
        console("shenzhen_supervisor")
        .page("/console/cases")
        .select_one(".attention a[href$='status=escalated'] strong")
    )
    assert tile.text == "1"


def test_a_stale_move_is_refused_and_the_page_says_why(dayan_console, report, login):
    case_id = report()
    login("dayan_supervisor").push_ok(transition(case_id, "registered", "accepted"))
    # The console page still showed "registered" when the button was pressed.
    response = dayan_console.post(
        f"/console/cases/{case_id}/transition", {"from": "registered", "to": "accepted", "note": ""}
    )
    assert response.status_code == 302  # already accepted: the same move is a no-op
    response = dayan_console.post(
        f"/console/cases/{case_id}/transition", {"from": "registered", "to": "escalated"}
    )
    assert response.status_code == 409
    assert "状态已被他人更改" in soup(response).select_one(".message.error").text


def test_a_note_that_is_too_long_or_empty_is_refused_with_nothing_written(
    dayan_console, report, rows
):
    from server.models import CaseEvent

    case_id = report()
    empty = dayan_console.post(f"/console/cases/{case_id}/events", {"kind": "note", "body": ""})
    huge = dayan_console.post(
        f"/console/cases/{case_id}/events", {"kind": "note", "body": "字" * 10_001}
    )
    extra = dayan_console.post(
        f"/console/cases/{case_id}/events", {"kind": "note", "body": "ok", "by": "someone-else"}
    )
    assert (empty.status_code, huge.status_code, extra.status_code) == (422, 422, 422)
    assert "长度不能超过" in huge.text or "长度须在" in huge.text
    assert "不允许的字段" in extra.text
    assert rows(CaseEvent) == []


def test_assigning_someone_of_an_uninvolved_town_is_refused(dayan_console, report, rows):
    from server.models import User

    case_id = report()
    outsider = next(u.id for u in rows(User, username="xidian_worker"))
    response = dayan_console.post(f"/console/cases/{case_id}/assign", {"assignee": outsider})
    assert response.status_code == 422
    assert "只能指派给案件所涉乡镇的在岗人员" in response.text


def test_a_console_edit_counts_as_concurrent_for_a_phone_editing_from_an_older_version(
    dayan_console, report, login
):
    """The console's change has no device: a phone's later edit from before it is merged."""
    case_id = report(title="原标题")
    phone = login("dayan_worker")
    dayan_console.post(
        f"/console/cases/{case_id}/transition", {"from": "registered", "to": "accepted"}
    )
    [result] = phone.push_ok(case_update(case_id, 1, title="新标题"))
    assert result["status"] == "merged"  # a different field changed meanwhile: no conflict
    assert result.get("conflicts") == []
