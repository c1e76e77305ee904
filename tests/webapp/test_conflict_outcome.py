"""A worker's value lost a merge; the town supervisor settles it at the console; the worker's
phone shows how, once, until the worker dismisses the notice."""

from __future__ import annotations

import uuid

from playwright.sync_api import BrowserContext, Page, expect

from tests.webapp.helpers import (
    PASSWORD,
    WAIT_MS,
    ApiDevice,
    go_online,
    sign_in,
    sync_now,
    unlock,
    wait_synced,
)

OUTCOME = "管理员已处理您对“标题”的修改：采用您的值"


def console_sign_in(page: Page, username: str) -> None:
    page.goto("/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.locator("h1")).to_have_text("案件列表", timeout=WAIT_MS)


def test_the_supervisor_takes_the_workers_value_and_the_phone_says_so(
    browser_context: BrowserContext, second_context: BrowserContext, pwa_server
) -> None:
    admin = ApiDevice(pwa_server.base_url, "admin")
    case_id = admin.create_case(f"山塘放水纠纷 {uuid.uuid4().hex[:6]}")
    admin.close()
    phone = browser_context.new_page()
    sign_in(phone, "dayan_worker")

    # Offline, the worker retitles the case; meanwhile the town changes the same title.
    browser_context.set_offline(True)
    phone.goto(f"/#/case/{case_id}")
    phone.locator("#edit-case summary").click()
    phone.locator("[name=edit_title]").fill("网格员改的标题")
    phone.get_by_role("button", name="保存修改").click()
    town = ApiDevice(pwa_server.base_url, "dayan_supervisor")
    [result] = town.push(
        {
            "op": "case.update",
            "record_id": case_id,
            "base_version": 1,
            "data": {"title": "镇里改的标题"},
        }
    )
    town.close()
    assert result["status"] == "applied", result
    wait_synced(phone, after=go_online(phone))
    phone.goto("/#/home")
    phone.goto(f"/#/case/{case_id}")
    expect(phone.locator("#case-title")).to_have_text("镇里改的标题")
    expect(phone.locator(".conflict")).to_have_count(1)
    expect(phone.locator(".outcome")).to_have_count(0)
    conflict_id = pwa_server.db.value(
        "SELECT id FROM conflicts WHERE record_id = ? AND status = 'open'", case_id
    )

    # At the console the supervisor sees both values and takes the worker's.
    desk = second_context.new_page()
    console_sign_in(desk, "dayan_supervisor")
    desk.goto("/console/conflicts")
    item = desk.locator(f"#conflict-{conflict_id}")
    expect(item.locator(".kept")).to_have_text("镇里改的标题")
    expect(item.locator(".incoming")).to_have_text("网格员改的标题")
    expect(item.locator(".who")).to_have_text("大堰镇网格员")
    item.get_by_role("button", name="采用被搁置的值").click()
    expect(desk.locator(".message.ok")).to_contain_text("已采用被搁置的值")
    expect(desk.locator(f"#conflict-{conflict_id}")).to_have_count(0)

    # The worker's next sync brings the title and the outcome.
    wait_synced(phone, after=sync_now(phone))
    phone.goto("/#/home")
    phone.goto(f"/#/case/{case_id}")
    expect(phone.locator("#case-title")).to_have_text("网格员改的标题")
    expect(phone.locator(".conflict")).to_have_count(0)
    notice = phone.locator(f".outcome[data-conflict='{conflict_id}']")
    expect(notice).to_contain_text(OUTCOME)
    expect(notice.locator(".now")).to_have_text("网格员改的标题")
    expect(notice).to_have_attribute("data-resolution", "incoming")

    # The outbox lists it too; dismissing it there quiets it everywhere, for good.
    phone.goto("/#/outbox")
    listed = phone.locator("#outbox-outcomes .outcome")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(OUTCOME)
    listed.get_by_role("button", name="知道了").click()
    expect(phone.locator("#outbox-outcomes")).to_have_count(0)
    wait_synced(phone, after=sync_now(phone))
    phone.goto(f"/#/case/{case_id}")
    expect(phone.locator("#case-title")).to_have_text("网格员改的标题")
    expect(phone.locator(".outcome")).to_have_count(0)
    phone.reload()
    unlock(phone)
    expect(phone.locator("#case-title")).to_have_text("网格员改的标题")
    expect(phone.locator(".outcome")).to_have_count(0)
