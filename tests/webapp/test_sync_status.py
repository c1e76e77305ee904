"""One honest sync status: the top bar, home and the outbox count unsent work alike, 立即同步
offline says why nothing happens, and afterwards the worker can see what the server took, on
which case and when."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import BrowserContext, Page, expect

from tests.webapp.helpers import (
    WAIT_MS,
    expect_pending,
    go_online,
    photo_file,
    sign_in,
    wait_synced,
)

CASE_NUMBER = re.compile(r"DY\d{4}-\d{5}")
SHOWN_TIME = re.compile(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}")


def case_with_photos(page: Page, title: str, photos: int, shade: int = 0) -> None:
    page.goto("/#/new-case")
    page.get_by_label("标题", exact=True).fill(title)
    page.get_by_label("类别").select_option("water")
    page.get_by_label("严重程度").select_option("medium")
    # Each photo different (the same bytes are one photo, kept and sent once).
    files = [photo_file(f"{title}-{i}.png", (40 * i + 20, 90, shade)) for i in range(photos)]
    page.get_by_label("拍照或选择照片").set_input_files(files)
    expect(page.get_by_text(f"已添加 {photos} 张照片")).to_be_visible()
    page.get_by_role("button", name="保存（离线也可）").click()
    expect(page.locator("#case-list")).to_contain_text(title)


def test_badge_home_and_outbox_count_the_same_unsent_records_and_photos(
    browser_context: BrowserContext,
) -> None:
    page = browser_context.new_page()
    sign_in(page, "dayan_worker")
    browser_context.set_offline(True)
    tag = uuid.uuid4().hex[:6]
    titles = [f"山塘放水纠纷 {tag}", f"机耕路占道 {tag}"]
    case_with_photos(page, titles[0], 2, shade=10)
    case_with_photos(page, titles[1], 1, shade=20)

    badge = page.locator("#pending-badge")
    expect(badge).to_have_text("待发 2 条 · 3 张图")
    expect_pending(page, 5)
    page.goto("/#/home")
    expect(page.locator("#home-pending")).to_have_text("2 条记录，3 张照片")
    expect(page.locator("#home-outbox")).to_contain_text("2 条记录，3 张照片")
    page.goto("/#/outbox")
    expect(page.locator("#outbox-pending h2")).to_have_text("等待发送：2 条记录，3 张照片")
    expect(page.locator("#outbox-pending li")).to_have_count(2)
    expect(page.locator("#outbox-sent")).not_to_contain_text(tag)

    # Offline, 立即同步 says why nothing is sent, and that it will go by itself.
    page.locator("#sync-now").click()
    notice = page.locator("[data-banner=sync_offline]")
    expect(notice).to_have_text("没有网络，恢复后自动同步。")
    expect_pending(page, 5)

    before = go_online(page)
    wait_synced(page, after=before)
    expect(notice).to_have_count(0)
    expect(badge).to_have_text("已全部发送")

    # 已发送: what, which case (its number, never an id), and when the server took it.
    page.goto("/#/outbox")
    expect(page.locator("#outbox-pending h2")).to_have_text("等待发送：0 条记录，0 张照片")
    sent = page.locator("#outbox-sent li").filter(has_text=tag)
    expect(sent).to_have_count(2)
    for title in titles:
        line = sent.filter(has_text=title)
        expect(line).to_contain_text("登记案件")
        expect(line.locator("a.sent-case")).to_have_text(
            re.compile(rf"^DY\d{{4}}-\d{{5}} {title}$")
        )
        expect(line).to_contain_text(re.compile(rf"服务器收到于 {SHOWN_TIME.pattern}"))
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", page.locator("#outbox-sent").inner_text())

    # Home shows when the last sync succeeded: this one, not an earlier one.
    page.goto("/#/home")
    shown = page.locator("#home-last-sync")
    expect(shown).to_have_text(SHOWN_TIME, timeout=WAIT_MS)
    expected = page.evaluate(
        """async () => {
            const { formatTime } = await import('/js/i18n.js');
            const { getMeta } = await import('/js/meta.js');
            const at = await getMeta('last_success');
            return { at, text: formatTime(at) };
        }"""
    )
    assert expected["at"] >= before
    expect(shown).to_have_text(expected["text"])


def test_home_says_what_was_sent_back(browser_context: BrowserContext) -> None:
    page = browser_context.new_page()
    sign_in(page, "xidian_worker")
    # A move the server refuses: a worker may not accept a case (only the town may).
    browser_context.set_offline(True)
    tag = uuid.uuid4().hex[:6]
    case_with_photos(page, f"宅基地界址 {tag}", 1, shade=30)
    page.locator("#case-list li").filter(has_text=tag).get_by_role("link").click()
    record_id = page.url.rsplit("/", 1)[-1]
    page.evaluate(
        """async (id) => {
            const { enqueue } = await import('/js/outbox.js');
            await enqueue({ op: 'case.transition', record_id: id,
                            data: { from: 'registered', to: 'closed', note: '' } });
        }""",
        record_id,
    )
    go_online(page)
    page.goto("/#/home")
    rejected = page.locator("#home-rejected")
    expect(rejected).to_have_text("1 项被服务器退回，等你修改或放弃：流程变更", timeout=WAIT_MS)
    expect(page.locator("#home-outbox .pill")).to_have_text("1 项需处理")
