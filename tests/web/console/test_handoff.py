"""Cross-town handoff: the lead town asks, the receiving town accepts or declines."""

from __future__ import annotations

from tests.web.console.conftest import soup


def request_handoff(console, case_id: str, to_town: str, reason: str = "事发地在对方镇"):
    return console.post(f"/console/cases/{case_id}/handoff", {"to_town": to_town, "reason": reason})


def pending_handoff(console, case_id: str) -> str:
    page = console.page(f"/console/cases/{case_id}")
    return page.select_one("#handoffs li[data-status=pending]")["data-handoff"]


def test_a_handoff_is_visible_to_both_towns_until_the_receiver_accepts(console, report, login):
    case_id = report(title="交界山林纠纷")
    dayan, shenzhen = console("dayan_supervisor"), console("shenzhen_supervisor")
    assert shenzhen.get(f"/console/cases/{case_id}").status_code == 404

    assert request_handoff(dayan, case_id, "shenzhen").status_code == 302
    for who in (dayan, shenzhen):
        queue = who.page("/console/cases")
        assert case_id in {li.a["href"].rsplit("/", 1)[1] for li in queue.select("#handoffs li")}
    shenzhen_page = shenzhen.page(f"/console/cases/{case_id}")
    assert shenzhen_page.select("#handoffs form.decide")  # it can decide
    assert not shenzhen_page.select("#assign-form")  # but not act on the case before that

    handoff_id = pending_handoff(shenzhen, case_id)
    accepted = shenzhen.post(
        f"/console/handoffs/{handoff_id}/decide", {"decision": "accepted", "note": "同意接收"}
    )
    assert accepted.status_code == 302
    page = shenzhen.page(f"/console/cases/{case_id}")
    assert page.select_one("#lead-town").text == "深甽镇"
    assert page.select("#assign-form")

    phone = login("shenzhen_worker")
    phone.sync()
    case = phone.of("case")[case_id]["data"]
    assert case["primary_town"] == "shenzhen" and case["involved_towns"] == ["dayan"]
    kinds = {e["data"]["kind"] for e in phone.of("case_event").values()}
    assert {"handoff_request", "handoff"} <= kinds
    # The former lead stays on as a co-handling town and keeps the case.
    assert dayan.get(f"/console/cases/{case_id}").status_code == 200


def test_declining_needs_a_reason_and_leaves_the_case_where_it_was(console, report):
    case_id = report()
    dayan, shenzhen = console("dayan_supervisor"), console("shenzhen_supervisor")
    request_handoff(dayan, case_id, "shenzhen")
    handoff_id = pending_handoff(shenzhen, case_id)

    bare = shenzhen.post(f"/console/handoffs/{handoff_id}/decide", {"decision": "declined"})
    assert bare.status_code == 422
    declined = shenzhen.post(
        f"/console/handoffs/{handoff_id}/decide", {"decision": "declined", "note": "不在本镇辖区"}
    )
    assert declined.status_code == 302
    assert shenzhen.get(f"/console/cases/{case_id}").status_code == 404
    page = dayan.page(f"/console/cases/{case_id}")
    assert page.select_one("#lead-town").text == "大堰镇"
    assert "不在本镇辖区" in page.select_one("#handoffs").text


def test_only_the_receiving_town_decides_and_only_one_request_is_open(console, report):
    case_id = report()
    dayan, xidian = console("dayan_supervisor"), console("xidian_supervisor")
    request_handoff(dayan, case_id, "shenzhen")
    again = request_handoff(dayan, case_id, "xidian")
    assert again.status_code == 409
    handoff_id = pending_handoff(dayan, case_id)

    self_accept = dayan.post(f"/console/handoffs/{handoff_id}/decide", {"decision": "accepted"})
    assert self_accept.status_code == 422
    assert "没有权限" in soup(self_accept).select_one(".message.error").text
    outsider = xidian.post(f"/console/handoffs/{handoff_id}/decide", {"decision": "accepted"})
    assert outsider.status_code == 404

    cancelled = dayan.post(f"/console/handoffs/{handoff_id}/decide", {"decision": "cancelled"})
    assert cancelled.status_code == 302
    assert request_handoff(dayan, case_id, "xidian").status_code == 302


def test_a_town_cannot_hand_off_a_case_it_does_not_lead(console, report):
    case_id = report("dayan", involved_towns=["shenzhen"])
    shenzhen = console("shenzhen_supervisor")
    response = request_handoff(shenzhen, case_id, "shenzhen")
    assert response.status_code == 422


def test_a_case_closed_while_a_handoff_waits_cannot_be_taken_over(console, report, login):
    from tests.factories import transition

    case_id = report()
    dayan, shenzhen = console("dayan_supervisor"), console("shenzhen_supervisor")
    request_handoff(dayan, case_id, "shenzhen")
    handoff_id = pending_handoff(shenzhen, case_id)
    login("dayan_supervisor").push_ok(
        transition(case_id, "registered", "accepted"),
        transition(case_id, "accepted", "escalated"),
        transition(case_id, "escalated", "closed"),
    )
    late = shenzhen.post(f"/console/handoffs/{handoff_id}/decide", {"decision": "accepted"})
    assert late.status_code == 409
    assert dayan.page(f"/console/cases/{case_id}").select_one("#lead-town").text == "大堰镇"
    declined = shenzhen.post(
        f"/console/handoffs/{handoff_id}/decide", {"decision": "declined", "note": "案件已办结"}
    )
    assert declined.status_code == 302
