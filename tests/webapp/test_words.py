"""The words and the little things a grid worker notices: no own town among the "other"
towns, tap-to-call, kept line breaks, a due date that moves out loud, marks on new and
changed cases, help instead of jargon on the form, and text large enough to read outdoors."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import BrowserContext, Page, expect

from tests.webapp.helpers import ApiDevice, sign_in, sync_now, unlock, wait_synced

SHOWN_TIME = re.compile(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}")


def case_row(page: Page, title: str):
    return page.locator("#case-list li").filter(has_text=title)


def open_case(page: Page, title: str) -> None:
    page.goto("/#/cases")
    case_row(page, title).get_by_role("link").click()
    expect(page.locator("#case-title")).to_have_text(title)


def test_the_case_form_offers_only_other_towns_and_keeps_the_datum_note_in_help(
    browser_context: BrowserContext,
) -> None:
    page = browser_context.new_page()
    sign_in(page, "dayan_worker")
    page.goto("/#/new-case")
    others = page.locator("#involved-towns")
    expect(others.get_by_role("checkbox", name="深甽镇")).to_be_visible()
    expect(others.get_by_role("checkbox")).to_have_count(4)
    expect(others.get_by_role("checkbox", name="大堰镇")).to_have_count(0)
    expect(page.locator("#view")).not_to_contain_text("GCJ-02")

    page.get_by_role("link", name="定位坐标为什么和地图应用不一样？").click()
    expect(page.locator("#help-gps")).to_have_attribute("open", "")
    expect(page.locator("#help-gps")).to_contain_text("GCJ-02")


def test_a_case_page_calls_parties_keeps_lines_and_says_when_the_due_date_moves(
    browser_context: BrowserContext, pwa_server
) -> None:
    page = browser_context.new_page()
    sign_in(page, "dayan_worker")
    supervisor = ApiDevice(pwa_server.base_url, "dayan_supervisor")
    title = f"林地界桩争议 {uuid.uuid4().hex[:6]}"
    record_id = str(uuid.uuid4())
    data = {
        "title": title,
        "category": "land",
        "primary_town": "dayan",
        "severity": "low",
        "description": "东坡界桩被移动。\n双方同意周五到现场。",
        "parties": [
            {"name": "李某", "role": "applicant", "phone": "138 0000-1234"},
            {"name": "王某", "role": "respondent"},
        ],
    }
    [result] = supervisor.push({"op": "case.create", "record_id": record_id, "data": data})
    supervisor.close()
    assert result["status"] == "applied"
    wait_synced(page, after=sync_now(page))
    open_case(page, title)

    call = page.locator("#case-head a.tel")
    expect(call).to_have_attribute("href", "tel:13800001234")
    expect(call).to_have_text("138 0000-1234")
    description = page.locator("#case-head .description")
    assert description.inner_text() == "东坡界桩被移动。\n双方同意周五到现场。"
    expect(page.locator("#case-severity")).to_have_text("一般")

    # Before saving, the worker is told the new due date; the server then sets that date.
    page.locator("#edit-case summary").click()
    page.locator("select[name=edit_severity]").select_option("high")
    note = page.locator("#due-moves")
    expect(note).to_contain_text("改为“严重”后，办理期限将改为 ")
    promised = SHOWN_TIME.search(note.inner_text())
    assert promised
    page.locator("#edit-case").get_by_role("button", name="保存修改").click()
    wait_synced(page)
    page.reload()
    unlock(page)
    due = page.locator("#case-head dt", has_text="办理期限").locator(
        "xpath=following-sibling::dd[1]"
    )
    expect(due).to_have_text(promised.group(0))
    expect(page.locator("#case-severity")).to_have_text("严重")


def test_new_and_changed_cases_are_marked_until_opened(
    browser_context: BrowserContext, pwa_server
) -> None:
    page = browser_context.new_page()
    sign_in(page, "dayan_worker")
    page.goto("/#/cases")
    expect(page.locator("#case-count")).to_contain_text("共")
    expect(page.locator("#case-list [data-mark]")).to_have_count(0)  # what it had: seen

    supervisor = ApiDevice(pwa_server.base_url, "dayan_supervisor")
    title = f"灌溉渠堵塞 {uuid.uuid4().hex[:6]}"
    record_id = supervisor.create_case(title)
    wait_synced(page, after=sync_now(page))
    page.goto("/#/cases")
    expect(case_row(page, title).locator("[data-mark]")).to_have_text("新")

    open_case(page, title)
    page.goto("/#/cases")
    expect(case_row(page, title)).to_be_visible()
    expect(case_row(page, title).locator("[data-mark]")).to_have_count(0)

    update = {"op": "case.update", "record_id": record_id, "base_version": 1}
    [result] = supervisor.push({**update, "data": {"description": "村里已派人清理。"}})
    supervisor.close()
    assert result["status"] == "applied"
    wait_synced(page, after=sync_now(page))
    page.goto("/#/cases")
    expect(case_row(page, title).locator("[data-mark]")).to_have_text("有更新")
    open_case(page, title)
    page.goto("/#/cases")
    expect(case_row(page, title)).to_be_visible()
    expect(case_row(page, title).locator("[data-mark]")).to_have_count(0)


def test_larger_text_is_kept_across_a_reload(browser_context: BrowserContext) -> None:
    page = browser_context.new_page()
    sign_in(page, "shiliang_worker")
    root_size = "() => getComputedStyle(document.documentElement).fontSize"
    assert page.evaluate(root_size) == "16px"
    page.goto("/#/settings")
    page.get_by_label("字体大小").select_option(label="特大")
    assert page.evaluate(root_size) == "22px"
    page.reload()
    expect(page.locator("#lock-form")).to_be_visible()
    assert page.evaluate(root_size) == "22px"  # the PIN screen too
    unlock(page)
    page.goto("/#/settings")
    expect(page.get_by_label("字体大小")).to_have_value("larger")
    assert page.evaluate(root_size) == "22px"
