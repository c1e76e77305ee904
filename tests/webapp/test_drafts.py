"""Nothing typed is lost at the edges: drafts survive a killed browser and a tab change, Enter
saves nothing, a save with a missing field says what is missing, and a rejected move's note can
be kept. On a 390 x 844 phone in Simplified Chinese."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from testkit.chromium import context_options
from tests.webapp.helpers import (
    WAIT_MS,
    ApiDevice,
    go_online,
    idb_outbox,
    photo_file,
    shoot,
    sign_in,
    unlock,
    wait_synced,
    wait_until,
)

PHONE = {"viewport": {"width": 390, "height": 844}}


@pytest.fixture
def phone_390(persistent_phone) -> Callable[[], BrowserContext]:
    """launch() -> a 390 x 844 phone with a persistent profile; launch again after closing it."""
    return lambda: persistent_phone(**PHONE)


@pytest.fixture
def phone(pwa_browser, pwa_server) -> Iterator[BrowserContext]:
    """A 390 x 844 phone with a fresh profile."""
    context = pwa_browser.new_context(**{**context_options(pwa_server.base_url), **PHONE})
    yield context
    context.close()


def idb_drafts(page: Page) -> list[dict[str, Any]]:
    """The drafts stored in IndexedDB (blobs as their size), read through the app's storage
    layer: they are sealed at rest (vault.js), so only the unlocked page can read them."""
    raw = page.evaluate(
        """async () => {
            const { listDrafts } = await import('/js/drafts.js');
            return JSON.stringify(await listDrafts(), (k, v) => (v instanceof Blob ? v.size : v));
        }"""
    )
    return json.loads(raw)


def draft_state(page: Page, key: str) -> dict[str, Any] | None:
    for draft in idb_drafts(page):
        if draft["key"] == key:
            return draft["state"]
    return None


HIDE_PAGE = """() => {
  Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def open_offline(context: BrowserContext) -> Page:
    page = context.pages[0] if context.pages else context.new_page()
    context.set_offline(True)
    page.goto("/")
    unlock(page)
    expect(page.locator("#home-status")).to_be_visible(timeout=WAIT_MS)
    return page


def test_half_typed_case_with_photo_and_gps_survives_a_killed_browser(phone_390) -> None:
    title = f"宅基地滴水纠纷 {uuid.uuid4().hex[:6]}"
    context = phone_390()
    page = context.pages[0]
    sign_in(page, "dayan_worker")
    context.set_offline(True)

    page.goto("/#/new-case")
    page.get_by_label("标题", exact=True).fill(title)
    page.get_by_label("类别").select_option("neighbours")
    page.get_by_role("checkbox", name="深甽镇").check()
    page.get_by_label("姓名").first.fill("张某")
    page.get_by_label("情况描述").fill("屋檐滴水落到邻家院内，")
    page.get_by_role("button", name="获取位置").click()
    expect(page.locator("#gps-text")).to_contain_text("±12 米")
    page.get_by_label("拍照或选择照片").set_input_files([photo_file("d.png", (120, 40, 40))])
    expect(page.get_by_text("已添加 1 张照片")).to_be_visible()

    # Written a moment after the last change, photo and fix included; then the browser dies.
    def kept() -> bool:
        state = draft_state(page, "case.new")
        return bool(state and state["photos"] and state["location"] and state["title"] == title)

    wait_until(page, kept, "the draft was written")
    assert idb_outbox(page)["rows"] == []
    context.close()

    context = phone_390()
    page = open_offline(context)
    drafts = page.locator("#home-drafts")
    expect(drafts.locator("h2")).to_have_text("草稿 1")
    expect(drafts).to_contain_text(f"新案件：{title}")
    shoot(page, "home-drafts")
    drafts.get_by_role("link").click()

    expect(page.get_by_role("status").filter(has_text="已恢复草稿")).to_be_visible()
    expect(page.get_by_label("标题", exact=True)).to_have_value(title)
    expect(page.get_by_label("类别")).to_have_value("neighbours")
    expect(page.get_by_role("checkbox", name="深甽镇")).to_be_checked()
    expect(page.get_by_label("姓名").first).to_have_value("张某")
    expect(page.get_by_label("情况描述")).to_have_value("屋檐滴水落到邻家院内，")
    expect(page.locator("#gps-text")).to_contain_text("±12 米")
    expect(page.get_by_text("已添加 1 张照片")).to_be_visible()
    expect(page.locator("form .thumb")).to_have_count(1)
    shoot(page, "new-case-draft")

    # Carry on typing and save: the draft goes in the transaction that writes the intent.
    page.get_by_label("情况描述").press("End")
    page.get_by_label("情况描述").type("双方同意调解。")
    page.get_by_label("严重程度").select_option("low")
    page.get_by_role("button", name="保存（离线也可）").click()
    expect(page.locator("#case-list")).to_contain_text(title)
    assert idb_drafts(page) == []
    [entry] = idb_outbox(page)["rows"]
    assert entry["op"] == "case.create"
    data = entry["data"]
    assert data["title"] == title and data["category"] == "neighbours"
    assert data["description"] == "屋檐滴水落到邻家院内，双方同意调解。"
    assert data["involved_towns"] == ["shenzhen"] and data["parties"][0]["name"] == "张某"
    assert len(data["photos"]) == 1 and abs(data["location"]["lat"] - 29.4812) < 1e-6
    page.goto("/#/home")
    expect(page.locator("#home-status")).to_be_visible()
    expect(page.locator("#home-drafts")).to_have_count(0)


def test_a_tab_change_keeps_the_draft_and_it_can_be_discarded(phone: BrowserContext) -> None:
    page = phone.new_page()
    sign_in(page, "xidian_worker")
    phone.set_offline(True)
    page.goto("/#/new-case")
    page.get_by_label("标题", exact=True).fill("渔船停泊")
    page.locator("#tabs").get_by_role("link", name="首页").click()  # at once, before the delay
    expect(page.locator("#home-drafts")).to_contain_text("新案件：渔船停泊")

    # The browser tab hidden (switching apps): the draft is written at once.
    page.locator("#tabs").get_by_role("link", name="案件").click()
    page.goto("/#/new-case")
    expect(page.get_by_label("标题", exact=True)).to_have_value("渔船停泊")
    page.get_by_label("标题", exact=True).fill("渔船停泊位置")
    page.evaluate(HIDE_PAGE)
    wait_until(
        page,
        lambda: (draft_state(page, "case.new") or {}).get("title") == "渔船停泊位置",
        "the hidden page wrote its draft",
    )
    page.evaluate("() => { delete document.visibilityState; }")

    page.get_by_role("button", name="丢弃草稿").click()
    expect(page.get_by_label("标题", exact=True)).to_have_value("")
    expect(page.get_by_text("已恢复草稿")).to_have_count(0)
    assert idb_drafts(page) == []
    page.locator("#tabs").get_by_role("link", name="首页").click()
    expect(page.locator("#home-status")).to_be_visible()
    expect(page.locator("#home-drafts")).to_have_count(0)


def test_enter_saves_nothing_and_a_missing_field_is_named(phone: BrowserContext) -> None:
    page = phone.new_page()
    sign_in(page, "shiliang_worker")
    phone.set_offline(True)
    page.goto("/#/new-case")
    title = page.get_by_label("标题", exact=True)
    category = page.get_by_label("类别")
    expect(title).to_have_attribute("aria-required", "true")
    expect(category).to_have_attribute("aria-required", "true")
    expect(category).to_have_value("")  # nothing chosen for the worker
    expect(page.get_by_label("严重程度")).to_have_value("")
    expect(page.locator(".field .req")).to_have_count(4)  # title, category, town, urgency

    # Enter (the keyboard's 前往) moves on; it never saves.
    title.fill("水库放水")
    title.press("Enter")
    expect(category).to_be_focused()
    page.get_by_label("姓名").first.fill("陈某")
    page.get_by_label("姓名").first.press("Enter")
    expect(page.locator(".party").first.locator("[name=party_role]")).to_be_focused()
    expect(page).to_have_url(re.compile(r"#/new-case$"))
    assert idb_outbox(page)["rows"] == []

    # Saving without a category says so, goes to it, and writes nothing to the outbox.
    page.get_by_label("严重程度").select_option("high")
    page.get_by_role("button", name="保存（离线也可）").click()
    expect(page.get_by_role("alert").filter(has_text="请选择纠纷类别")).to_be_visible()
    expect(category).to_be_focused()
    expect(category).to_have_attribute("aria-invalid", "true")
    shoot(page, "new-case-missing")
    assert idb_outbox(page)["rows"] == []
    category.select_option("water")
    page.get_by_role("button", name="保存（离线也可）").click()
    expect(page.locator("#case-list")).to_contain_text("水库放水")
    assert [r["data"]["category"] for r in idb_outbox(page)["rows"]] == ["water"]

    # The check-in: Enter in the name box adds the name, never the check-in.
    page.goto("/#/route")
    page.get_by_role("link", name="在此打卡").first.click()
    expect(page.locator("#save-checkin")).to_be_enabled(timeout=WAIT_MS)
    participants = page.get_by_label("参加人数")
    participants.fill("3")
    participants.press("Enter")
    names = page.get_by_label("添加人员")
    expect(names).to_be_focused()
    names.fill("戴某")
    names.press("Enter")
    expect(page.locator("#participant-names")).to_have_text("戴某")
    expect(names).to_have_value("")
    names.press("Enter")  # empty: on to the notes
    expect(page.get_by_label("备注")).to_be_focused()
    page.get_by_label("备注").press("Enter")  # a textarea: a new line, no save
    assert len(idb_outbox(page)["rows"]) == 1
    page.get_by_role("button", name="保存打卡（离线也可）").click()
    expect(page.get_by_role("alert").filter(has_text="请选择活动")).to_be_visible()
    assert len(idb_outbox(page)["rows"]) == 1


def test_a_rejected_moves_note_is_kept_as_a_draft_or_a_timeline_note(
    phone: BrowserContext, pwa_server
) -> None:
    admin = ApiDevice(pwa_server.base_url, "admin")
    tag = uuid.uuid4().hex[:6]
    kept_as_draft = admin.create_case(f"养殖场异味 {tag} 甲")
    kept_in_timeline = admin.create_case(f"养殖场异味 {tag} 乙")
    for case_id in (kept_as_draft, kept_in_timeline):
        assert admin.move(case_id, "registered", "accepted")["status"] == "applied"
        assert admin.move(case_id, "accepted", "mediating")["status"] == "applied"
    page = phone.new_page()
    sign_in(page, "dayan_supervisor")

    phone.set_offline(True)
    notes = {kept_as_draft: f"双方签了协议 {tag}", kept_in_timeline: f"已现场回访 {tag}"}
    for (case_id, note), which in zip(notes.items(), "甲乙", strict=True):
        page.goto(f"/#/case/{case_id}")
        expect(page.locator("#case-title")).to_have_text(f"养殖场异味 {tag} {which}")
        page.get_by_placeholder("说明（可选）").fill(note)
        page.locator("#moves").get_by_role("button", name="转为：已化解").click()
        expect(page.locator("#case-status")).to_have_text("已化解")
    for case_id in notes:  # meanwhile the alliance escalated both
        assert admin.move(case_id, "mediating", "escalated")["status"] == "applied"
    admin.close()
    wait_synced(page, after=go_online(page))

    page.goto("/#/outbox")
    rejections = page.locator("#outbox-rejected .rejection")
    expect(rejections).to_have_count(2)
    first = rejections.filter(has_text=f"{tag} 甲")
    expect(first).to_contain_text(f"说明： {notes[kept_as_draft]}")
    first.get_by_role("button", name="放弃").click()
    expect(first).to_contain_text("它的说明要保留吗？")
    shoot(page, "outbox-discard-move")
    first.get_by_role("button", name="说明存为草稿").click()
    expect(rejections).to_have_count(1)
    second = rejections.filter(has_text=f"{tag} 乙")
    second.get_by_role("button", name="放弃").click()
    second.get_by_role("button", name="说明记入办理经过").click()
    expect(rejections).to_have_count(0)

    wait_synced(page)
    body = "SELECT body FROM case_events WHERE case_id = ? AND kind = 'note'"
    assert [r[0] for r in pwa_server.db.rows(body, kept_in_timeline)] == [notes[kept_in_timeline]]
    assert pwa_server.db.rows(body, kept_as_draft) == []

    page.goto("/#/home")
    draft = page.locator("#home-drafts li").filter(has_text=f"{tag} 甲")
    expect(draft).to_contain_text(f"办理记录：养殖场异味 {tag} 甲")
    draft.get_by_role("link").click()
    form = page.locator("#event-form")
    expect(form.get_by_role("status").filter(has_text="已恢复草稿")).to_be_visible()
    expect(form.get_by_label("内容")).to_have_value(notes[kept_as_draft])
    expect(form.get_by_label("类型")).to_have_value("note")


# The phone's storage is full for one write: the next intent given to the outbox is refused, as
# IndexedDB refuses a write over the quota. Patched from outside; the app has no test hook.
REFUSE_NEXT_OUTBOX_WRITE = """() => {
  const add = IDBObjectStore.prototype.add;
  IDBObjectStore.prototype.add = function (...args) {
    if (this.name === 'outbox') {
      IDBObjectStore.prototype.add = add;
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    }
    return add.apply(this, args);
  };
}"""


def fill_new_case(page: Page, title: str) -> None:
    page.goto("/#/new-case")
    page.get_by_label("标题", exact=True).fill(title)
    page.get_by_label("类别").select_option("other")
    page.get_by_label("严重程度").select_option("medium")


def test_typing_after_a_failed_save_is_still_drafted(phone: BrowserContext) -> None:
    title = f"鱼塘承包纠纷 {uuid.uuid4().hex[:6]}"
    later = "保存失败后补充：双方约定下周再谈。"
    page = phone.new_page()
    sign_in(page, "dayan_worker")
    phone.set_offline(True)
    fill_new_case(page, title)
    wait_until(
        page,
        lambda: (draft_state(page, "case.new") or {}).get("title") == title,
        "the draft was written",
    )

    page.evaluate(REFUSE_NEXT_OUTBOX_WRITE)
    save = page.get_by_role("button", name="保存（离线也可）")
    save.click()
    expect(page.get_by_role("alert").filter(has_text="未能保存")).to_be_visible()
    expect(save).to_be_enabled()
    assert idb_outbox(page)["rows"] == []
    assert (draft_state(page, "case.new") or {}).get("title") == title, "the draft is kept"

    # The form is still open and still drafted: what is typed now is kept too.
    page.get_by_label("情况描述").fill(later)
    wait_until(
        page,
        lambda: (draft_state(page, "case.new") or {}).get("description") == later,
        "the typing after the failed save was drafted",
    )
    page.locator("#tabs").get_by_role("link", name="首页").click()
    page.goto("/#/new-case")
    expect(page.get_by_label("情况描述")).to_have_value(later)

    # Space freed: the save goes through, with its draft deleted in the same transaction.
    page.get_by_role("button", name="保存（离线也可）").click()
    expect(page.locator("#case-list")).to_contain_text(title)
    [entry] = idb_outbox(page)["rows"]
    assert entry["data"]["description"] == later
    assert idb_drafts(page) == []


def test_a_double_tap_on_save_records_once(phone: BrowserContext, pwa_server) -> None:
    tag = uuid.uuid4().hex[:6]
    admin = ApiDevice(pwa_server.base_url, "admin")
    registered = admin.create_case(f"沟渠堵塞 {tag}")
    admin.close()
    page = phone.new_page()
    sign_in(page, "dayan_supervisor")
    phone.set_offline(True)
    fill_new_case(page, f"双击保存 {tag}")
    page.get_by_role("button", name="保存（离线也可）").dblclick()
    expect(page.locator("#case-list")).to_contain_text(f"双击保存 {tag}")
    page.wait_for_timeout(500)  # a second save, had there been one, has landed by now
    assert [r["data"]["title"] for r in idb_outbox(page)["rows"]] == [f"双击保存 {tag}"]

    # A timeline note; then two moves tapped in a row record the first one only.
    page.goto(f"/#/case/{registered}")
    form = page.locator("#event-form")
    form.get_by_label("内容").fill(f"现场查看 {tag}")
    form.get_by_role("button", name="添加记录").dblclick()
    expect(page.locator("#timeline .event").filter(has_text=f"现场查看 {tag}")).to_have_count(1)
    status = page.locator("#case-status").inner_text()
    disabled = page.evaluate(
        """() => {
            const buttons = [...document.querySelectorAll('#moves button.move')];
            buttons[0].click();
            const after = buttons.map((b) => b.disabled);
            buttons[buttons.length - 1].click();  // does nothing while the first is saved
            return after;
        }"""
    )
    assert disabled and all(disabled), disabled
    expect(page.locator("#case-status")).not_to_have_text(status)
    page.wait_for_timeout(500)
    ops = [r["op"] for r in idb_outbox(page)["rows"]]
    assert ops == ["case.create", "case_event.create", "case.transition"], ops


def test_typing_in_the_last_moment_before_the_page_closes_is_kept(phone_390) -> None:
    """The debounced write has not run yet: pagehide (and the page hidden) writes it at once.

    Closing the whole browser right after typing (context.close) loses it in headless Chromium
    (tried: nothing written lands), as with a killed browser: those last 400 ms are not kept."""
    title = f"堤坝渗水 {uuid.uuid4().hex[:6]}"
    context = phone_390()
    page = context.pages[0]
    sign_in(page, "dayan_worker")
    context.set_offline(True)
    page.goto("/#/new-case")
    page.get_by_label("标题", exact=True).fill(title)
    page.close(run_before_unload=True)  # at once: well inside the 400 ms delay

    page = context.new_page()
    page.goto("/#/new-case")
    unlock(page)
    expect(page.get_by_label("标题", exact=True)).to_have_value(title, timeout=WAIT_MS)
    expect(page.get_by_role("status").filter(has_text="已恢复草稿")).to_be_visible()
