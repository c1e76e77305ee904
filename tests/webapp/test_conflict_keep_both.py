"""Two phones rewrite one case's description offline. The worker whose text lost sees it on
home under "需要你处理", reads both texts in words with who wrote the one in force and when,
keeps both (offline), and the console's inbox shows the conflict settled."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import BrowserContext, Page, expect

from tests.webapp.helpers import (
    ApiDevice,
    console_sign_in,
    go_online,
    shoot,
    sign_in,
    sync_now,
    wait_synced,
)

TOWN_TEXT = "下游村民称水渠被堵，已约双方周五面谈。"
WORKER_TEXT = "上游村民称水渠是自家出钱修的，不同意改道。"
LOCAL_TIME = re.compile(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}")


def edit_description_offline(page: Page, case_id: str, text: str) -> None:
    page.goto(f"/#/case/{case_id}")
    page.locator("#edit-case summary").click()
    page.locator("[name=edit_description]").fill(text)
    page.get_by_role("button", name="保存修改").click()
    expect(page.locator("#case-head .description")).to_have_text(text)


def test_the_loser_keeps_both_texts_and_the_console_shows_it_settled(
    browser_context: BrowserContext, second_context: BrowserContext, desk, pwa_server
) -> None:
    title = f"山塘放水纠纷 {uuid.uuid4().hex[:6]}"
    admin = ApiDevice(pwa_server.base_url, "admin")
    case_id = admin.create_case(title)
    admin.close()
    number = pwa_server.db.value("SELECT number FROM cases WHERE id = ?", case_id)
    worker = browser_context.new_page()
    town = second_context.new_page()
    sign_in(worker, "dayan_worker")
    sign_in(town, "dayan_supervisor")

    browser_context.set_offline(True)
    second_context.set_offline(True)
    edit_description_offline(worker, case_id, WORKER_TEXT)
    edit_description_offline(town, case_id, TOWN_TEXT)
    wait_synced(town, after=go_online(town))
    wait_synced(worker, after=go_online(worker))

    # Home says what needs the worker, and on which case (its number and title, no id).
    worker.goto("/#/home")
    attention = worker.locator("#home-attention")
    expect(attention.locator("h2")).to_contain_text("需要你处理")
    item = attention.locator("li[data-kind=conflict]")
    expect(item).to_contain_text("“情况描述”有两个版本，你的未被采用")
    expect(item).to_contain_text(f"{number} {title}")
    expect(attention).not_to_contain_text(case_id)
    shoot(worker, "home-attention")
    item.locator("a").click()

    # The card: both texts, who wrote the one in force and when, three ways forward.
    card = worker.locator(".conflict")
    expect(card).to_have_count(1)
    expect(card.locator(".kept")).to_have_text(TOWN_TEXT)
    expect(card.locator(".incoming")).to_have_text(WORKER_TEXT)
    expect(card.locator(".kept-by")).to_contain_text("由 大堰镇管理员 于 ")
    expect(card.locator(".kept-by")).to_have_text(LOCAL_TIME)
    for name in ("保留当前值", "重新提交我的值", "两者都保留"):
        expect(card.get_by_role("button", name=name)).to_be_visible()
    shoot(worker, "conflict-card")

    # Offline, the worker keeps both: the case shows it at once, the outbox holds the choice.
    browser_context.set_offline(True)
    card.get_by_role("button", name="两者都保留").click()
    expect(worker.locator(".conflict")).to_have_count(0)
    description = worker.locator("#case-head .description")
    expect(description).to_contain_text(TOWN_TEXT)
    expect(description).to_contain_text("——（我的版本，大堰镇网格员 ")
    expect(description).to_contain_text(WORKER_TEXT)
    worker.goto("/#/home")
    expect(worker.locator("#home-attention")).to_have_count(0)
    wait_synced(worker, after=go_online(worker))

    stored = pwa_server.db.value("SELECT description FROM cases WHERE id = ?", case_id)
    first, label, mine = stored.split("\n")
    assert (first, mine) == (TOWN_TEXT, WORKER_TEXT)
    assert label.startswith("——（我的版本，大堰镇网格员 ") and label.endswith("）")
    worker.goto(f"/#/case/{case_id}")
    expect(worker.locator("#case-head .description")).to_contain_text(WORKER_TEXT)
    expect(worker.locator(".conflict")).to_have_count(0)
    expect(worker.locator(".outcome")).to_have_count(0)  # the worker's own choice: no notice

    # At the desk: nothing open any more, and the settled one says how.
    console = desk.new_page()
    console_sign_in(console, "dayan_supervisor")
    conflict_id = pwa_server.db.value("SELECT id FROM conflicts WHERE record_id = ?", case_id)
    console.goto("/console/conflicts")
    expect(console.locator(f"#conflict-{conflict_id}")).to_have_count(0)
    console.goto("/console/conflicts?status=resolved")
    settled = console.locator(f"#conflict-{conflict_id}")
    expect(settled.locator(".outcome")).to_contain_text("提交人两者都保留")
    expect(settled.locator(".outcome")).to_contain_text("大堰镇网格员")
    console.goto(f"/console/cases/{case_id}")
    expect(console.locator(".prose").first).to_contain_text(TOWN_TEXT)
    expect(console.locator(".prose").first).to_contain_text(WORKER_TEXT)

    # The town's phone gets the joined text on its next sync.
    wait_synced(town, after=sync_now(town))
    town.goto("/#/home")
    town.goto(f"/#/case/{case_id}")
    expect(town.locator("#case-head .description")).to_contain_text(WORKER_TEXT)
