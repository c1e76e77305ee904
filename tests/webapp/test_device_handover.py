"""A phone changing hands, and a phone whose sign-in has ended, on a 360 px phone in Chinese.

A device id belongs to one person: the next person on the phone gets a fresh one from the
server and the phone keeps it. While the first person's work is still on the phone, nobody
else may sign in (it would be sent under their token); the phone says so and offers the
export. A phone whose sign-in ended (expired, or ended at the console) keeps its outbox, asks
for the password, and sends the work exactly once afterwards."""

from __future__ import annotations

import json
import uuid

from playwright.sync_api import BrowserContext, Page, expect

from tests.webapp.helpers import (
    PASSWORD,
    WAIT_MS,
    console_sign_in,
    expect_pending,
    go_online,
    page_clock,
    set_pin,
    sign_in,
    wait_synced,
)
from tests.webapp.test_sync_recovery import FORGET_TOKEN, quick_case

PHONE_DEVICE_ID = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open('fengling');
  open.onsuccess = () => {
    const read = open.result.transaction('meta').objectStore('meta').get('device_id');
    read.onsuccess = () => { resolve(read.result?.value ?? null); open.result.close(); };
    read.onerror = () => reject(read.error);
  };
})"""


def phone_device_id(page: Page) -> str:
    return str(page.evaluate(PHONE_DEVICE_ID))


def end_sign_in_at_console(desk: BrowserContext, pwa_server, device_id: str) -> None:
    """An admin ends this phone's sign-in on the console's device list."""
    user_id = pwa_server.db.value("SELECT user_id FROM devices WHERE id = ?", device_id)
    console = desk.new_page()
    console_sign_in(console, "admin")
    console.goto(f"/console/devices?user={user_id}")
    row = console.locator(f"tr[data-device='{device_id}']")
    row.locator("form.end-sign-in button").click()
    expect(console.locator(".message.ok")).to_contain_text("已结束该设备的登录")
    console.close()


def sign_in_as(page: Page, username: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()


def test_an_ended_sign_in_keeps_the_outbox_and_sends_it_once_after_the_password(
    browser_context: BrowserContext, desk: BrowserContext, pwa_server
) -> None:
    page = browser_context.new_page()
    sign_in(page, "xiaojiang_worker")
    device_id = phone_device_id(page)
    browser_context.set_offline(True)
    title = f"竹编收购价纠纷 {uuid.uuid4().hex[:6]}"
    quick_case(page, title)
    end_sign_in_at_console(desk, pwa_server, device_id)

    go_online(page)
    banner = page.locator("[data-banner=auth_problem]")
    expect(banner).to_contain_text("登录已过期，请重新输入密码", timeout=WAIT_MS)
    expect(page.locator("#case-list")).to_contain_text(title)
    expect_pending(page, 1)
    assert pwa_server.db.value("SELECT count(*) FROM cases WHERE title = ?", title) == 0

    banner.get_by_role("button", name="重新登录").click()
    expect(page.get_by_label("用户名")).to_have_value("xiaojiang_worker")
    page.get_by_label("密码").fill(PASSWORD)
    signed_in_again = page_clock(page)
    page.get_by_role("button", name="登录", exact=True).click()
    wait_synced(page, after=signed_in_again)
    expect(banner).to_have_count(0)
    assert phone_device_id(page) == device_id  # the same person keeps the same device
    assert pwa_server.db.value("SELECT count(*) FROM cases WHERE title = ?", title) == 1
    page.locator("#sync-now").click()
    wait_synced(page)
    assert pwa_server.db.value("SELECT count(*) FROM cases WHERE title = ?", title) == 1


def test_the_next_worker_waits_for_the_first_ones_work_and_gets_a_device_id_of_their_own(
    browser_context: BrowserContext, pwa_server
) -> None:
    page = browser_context.new_page()
    sign_in(page, "shiliang_worker")
    first_id = phone_device_id(page)
    first_user = pwa_server.db.value("SELECT user_id FROM devices WHERE id = ?", first_id)
    browser_context.set_offline(True)
    title = f"茶园灌溉用水 {uuid.uuid4().hex[:6]}"
    quick_case(page, title)
    page.evaluate(FORGET_TOKEN)  # the session is refused: the phone asks for a sign-in
    go_online(page)
    banner = page.locator("[data-banner=auth_problem]")
    expect(banner).to_be_visible(timeout=WAIT_MS)

    # Another worker picks up the phone: refused in words, with the export at hand.
    banner.get_by_role("button", name="重新登录").click()
    sign_in_as(page, "xidian_worker")
    expect(page.get_by_role("alert").filter(has_text="只能由其本人登录发送")).to_contain_text(
        "本机有石梁镇网格员的 1 项未同步内容"
    )
    with page.expect_download() as download:
        page.locator("#login-kept").get_by_role("button", name="导出未同步内容").click()
    exported = json.loads(json.loads(download.value.path().read_text("utf-8"))["content"])
    assert exported["device_id"] == first_id and exported["user"]["username"] == "shiliang_worker"
    assert [m["data"]["title"] for m in exported["mutations"]] == [title]
    assert pwa_server.db.value("SELECT count(*) FROM cases WHERE title = ?", title) == 0

    # The first worker sends their work and signs out; then the second signs in.
    page.get_by_label("用户名").fill("shiliang_worker")
    page.get_by_label("密码").fill(PASSWORD)
    before = page_clock(page)
    page.get_by_role("button", name="登录", exact=True).click()
    wait_synced(page, after=before)
    assert pwa_server.db.value("SELECT count(*) FROM cases WHERE title = ?", title) == 1
    page.goto("/#/settings")
    page.locator("#logout").click()
    page.get_by_role("button", name="确定").click()
    expect(page.get_by_label("用户名")).to_be_visible(timeout=WAIT_MS)

    before = page_clock(page)
    sign_in_as(page, "xidian_worker")
    set_pin(page)  # a new person on the phone sets their own PIN
    expect(page.locator("#home-status")).to_be_visible(timeout=WAIT_MS)
    wait_synced(page, after=before)
    second_id = phone_device_id(page)
    assert second_id != first_id  # a fresh id from the server, kept by the phone
    second_user = pwa_server.db.value("SELECT user_id FROM devices WHERE id = ?", second_id)
    xidian = pwa_server.db.value("SELECT id FROM users WHERE username = 'xidian_worker'")
    assert second_user == xidian
    assert pwa_server.db.value("SELECT user_id FROM devices WHERE id = ?", first_id) == first_user


def test_the_previous_workers_drafts_also_keep_another_worker_out(
    browser_context: BrowserContext, pwa_server
) -> None:
    page = browser_context.new_page()
    sign_in(page, "shenzhen_worker")
    device_id = phone_device_id(page)
    title = f"渔船停泊位置 {uuid.uuid4().hex[:6]}"
    page.goto("/#/new-case")
    page.get_by_label("标题", exact=True).fill(title)
    page.locator("#tabs").get_by_role("link", name="首页").click()
    expect(page.locator("#home-drafts")).to_contain_text(title)
    page.evaluate(FORGET_TOKEN)  # the session is refused: the phone asks for a sign-in
    page.locator("#sync-now").click()
    banner = page.locator("[data-banner=auth_problem]")
    expect(banner).to_be_visible(timeout=WAIT_MS)

    banner.get_by_role("button", name="重新登录").click()
    sign_in_as(page, "xidian_worker")
    expect(page.get_by_role("alert").filter(has_text="草稿")).to_contain_text(
        "只能由其本人登录保存或删除后，其他人才能登录"
    )
    xidian = pwa_server.db.value("SELECT id FROM users WHERE username = 'xidian_worker'")
    assert pwa_server.db.value("SELECT user_id FROM devices WHERE id = ?", device_id) != xidian
    page.get_by_role("link", name="返回查看本机内容").click()
    expect(page.locator("#home-drafts")).to_contain_text(title)  # still there
