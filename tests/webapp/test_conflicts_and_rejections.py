"""What the server did not take as sent: a field that lost a merge, and a rejected intent.
Both stay visible to their author, with a way forward."""

from __future__ import annotations

import uuid

from playwright.sync_api import BrowserContext, Page, expect

from tests.webapp.helpers import (
    ApiDevice,
    go_online,
    shoot,
    sign_in,
    sync_now,
    wait_synced,
)


def edit_title_offline(page: Page, case_id: str, title: str) -> None:
    page.goto(f"/#/case/{case_id}")
    page.locator("#edit-case summary").click()
    page.locator("[name=edit_title]").fill(title)
    page.get_by_role("button", name="保存修改").click()
    expect(page.locator("#case-title")).to_have_text(title)


def open_case(page: Page, case_id: str) -> None:
    page.goto("/#/home")
    page.goto(f"/#/case/{case_id}")


def test_two_devices_edit_one_field_the_loser_sees_a_conflict_and_resubmits(
    browser_context: BrowserContext, second_context: BrowserContext, pwa_server
) -> None:
    admin = ApiDevice(pwa_server.base_url, "admin")
    case_id = admin.create_case(f"邻里宅基地纠纷 {uuid.uuid4().hex[:6]}")
    admin.close()
    worker = browser_context.new_page()
    supervisor = second_context.new_page()
    sign_in(worker, "dayan_worker")
    sign_in(supervisor, "dayan_supervisor")

    browser_context.set_offline(True)
    second_context.set_offline(True)
    edit_title_offline(worker, case_id, "网格员改的标题")
    edit_title_offline(supervisor, case_id, "镇里改的标题")

    wait_synced(supervisor, after=go_online(supervisor))
    wait_synced(worker, after=go_online(worker))

    # Both converge on the server's value; the worker's value is kept as a conflict.
    title = "SELECT title FROM cases WHERE id = ?"
    assert pwa_server.db.value(title, case_id) == "镇里改的标题"
    open_case(worker, case_id)
    expect(worker.locator("#case-title")).to_have_text("镇里改的标题")
    conflict = worker.locator(".conflict")
    expect(conflict).to_contain_text("您对“标题”的修改与他人冲突，未被采用")
    expect(conflict.locator(".kept")).to_have_text("镇里改的标题")
    expect(conflict.locator(".incoming")).to_have_text("网格员改的标题")
    shoot(worker, "conflict")
    wait_synced(supervisor, after=sync_now(supervisor))
    open_case(supervisor, case_id)
    expect(supervisor.locator("#case-title")).to_have_text("镇里改的标题")
    expect(supervisor.locator(".conflict")).to_have_count(0)  # only its author sees it

    # The worker resubmits the value that lost; now it is an ordinary, later edit.
    conflict.get_by_role("button", name="重新提交我的值").click()
    expect(worker.locator(".conflict")).to_have_count(0)
    wait_synced(worker)
    assert pwa_server.db.value(title, case_id) == "网格员改的标题"
    expect(worker.locator("#case-title")).to_have_text("网格员改的标题")
    wait_synced(supervisor, after=sync_now(supervisor))
    open_case(supervisor, case_id)
    expect(supervisor.locator("#case-title")).to_have_text("网格员改的标题")


def test_stale_move_is_shown_with_its_reason_and_can_be_fixed_or_discarded(
    browser_context: BrowserContext, pwa_server
) -> None:
    admin = ApiDevice(pwa_server.base_url, "admin")
    tag = uuid.uuid4().hex[:6]
    first = admin.create_case(f"劳资结算纠纷 {tag} 甲")
    second = admin.create_case(f"劳资结算纠纷 {tag} 乙")
    for case_id in (first, second):
        assert admin.move(case_id, "registered", "accepted")["status"] == "applied"
        assert admin.move(case_id, "accepted", "mediating")["status"] == "applied"
    page = browser_context.new_page()
    sign_in(page, "dayan_supervisor")

    browser_context.set_offline(True)
    for case_id in (first, second):
        page.goto(f"/#/case/{case_id}")
        page.locator("#moves").get_by_role("button", name="转为：已化解").click()
        expect(page.locator("#case-status")).to_have_text("已化解")
    # Meanwhile the alliance escalated both cases to joint enforcement.
    for case_id in (first, second):
        assert admin.move(case_id, "mediating", "escalated")["status"] == "applied"
    admin.close()

    wait_synced(page, after=go_online(page))
    status = "SELECT status FROM cases WHERE id = ?"
    assert pwa_server.db.value(status, first) == "escalated"
    page.goto(f"/#/case/{first}")
    expect(page.locator("#case-status")).to_have_text("提交联合执法")
    expect(page.locator(".rejection")).to_contain_text("案件状态已被他人更改")

    page.goto("/#/outbox")
    rejections = page.locator("#outbox-rejected .rejection")
    expect(rejections).to_have_count(2)
    expect(rejections.first).to_contain_text("原因： 案件状态已被他人更改，请刷新后重试。")
    expect(rejections.first).to_contain_text("调解中 → 已化解")
    shoot(page, "outbox-rejected")

    # Discard the move on the first case (after confirming) ...
    first_item = rejections.filter(has_text=f"{tag} 甲")
    first_item.get_by_role("button", name="放弃").click()
    first_item.get_by_role("button", name="确定").click()
    expect(rejections).to_have_count(1)
    # ... and fix the second: resolve it from where it now stands.
    second_item = rejections.filter(has_text=f"{tag} 乙")
    expect(second_item.locator("select")).to_have_value("resolved")
    second_item.get_by_role("button", name="修改后重新提交").click()
    expect(rejections).to_have_count(0)
    wait_synced(page)
    assert pwa_server.db.value(status, second) == "resolved"
    assert pwa_server.db.value(status, first) == "escalated"
    page.goto(f"/#/case/{second}")
    expect(page.locator("#case-status")).to_have_text("已化解")
    expect(page.locator(".rejection")).to_have_count(0)
