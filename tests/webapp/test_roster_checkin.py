"""A Dayan worker's study group: twelve party members picked from the town's roster and
saved as a group (学习小组), reused offline after a cold start for a check-in at a Shenzhen
site (柘坑戴村, on the alliance's route) where one of them is missing and a visitor not on
the roster came, with more people than names. The check-in reaches the server once, with
the members' ids and every name, and Shenzhen's supervisor sees it in the console."""

from __future__ import annotations

import json
import uuid

from playwright.sync_api import Page, expect

from tests.webapp.helpers import (
    WAIT_MS,
    console_sign_in,
    expect_pending,
    go_online,
    open_offline_app,
    shoot,
    sign_in,
    wait_synced,
)

GROUP = "周三学习小组"


def open_checkin(page: Page) -> None:
    page.goto("/#/route")
    page.locator("[data-site=zhekeng_daicun]").get_by_role("link", name="在此打卡").click()
    expect(page.locator("#save-checkin")).to_be_enabled(timeout=WAIT_MS)


def test_a_saved_study_group_is_reused_offline_and_reaches_the_server_once(
    persistent_phone, pwa_server, desk
) -> None:
    notes = f"周三党史学习 {uuid.uuid4().hex[:6]}"
    phone = persistent_phone()
    page = phone.pages[0]
    sign_in(page, "dayan_worker")

    # Online: twelve taps on the roster, then saved as a study group.
    open_checkin(page)
    roster = page.locator("#member-results button[data-member]")
    expect(roster).to_have_count(15)  # Dayan's roster: Shenzhen's stays on Shenzhen's phones
    picked = []
    for n in range(12):
        button = roster.nth(n)
        name = button.evaluate("(b) => b.firstChild.textContent")
        picked.append((button.get_attribute("data-member"), name))
        button.click()
    names = page.locator("#participant-names li")
    expect(names).to_have_count(12)
    expect(page.get_by_label("参加人数")).to_have_value("12")
    expect(page.locator("#count-note")).to_have_text("名单 12 人，与参加人数一致")
    page.get_by_role("button", name="保存为学习小组").click()
    page.get_by_label("小组名称").fill(GROUP)
    page.get_by_role("button", name="保存小组").click()
    expect(page.locator("#group-message")).to_contain_text(f"已保存学习小组“{GROUP}”（12 人）")
    page.get_by_role("button", name="清空名单").click()
    expect(names).to_have_count(0)

    # Offline, after a cold start: the group is still there.
    phone.close()
    phone = persistent_phone()
    page = open_offline_app(phone)
    open_checkin(page)
    page.get_by_label("活动", exact=True).select_option("party_history_study")
    page.locator("#group-select").select_option(label=f"{GROUP}（12 人）")
    page.get_by_role("button", name="加入名单").click()
    names = page.locator("#participant-names li")
    expect(names).to_have_count(12)

    # One of them did not come; a visitor not on the roster did; three more came unnamed.
    absent_id, absent_name = picked[4]
    page.get_by_role("button", name=f"移除 {absent_name}").click()
    expect(names).to_have_count(11)
    typed = page.get_by_label("添加人员")
    typed.fill("张三丰")
    typed.press("Enter")
    expect(names).to_have_count(12)
    expect(page.locator("#participant-names li.typed")).to_have_text("张三丰")
    expect(page.get_by_label("参加人数")).to_have_value("12")
    page.get_by_label("参加人数").fill("15")
    expect(page.locator("#count-note")).to_have_text("参加人数 15 人，名单 12 人，相差 3 人")
    page.get_by_label("备注").fill(notes)
    page.locator("#count-note").scroll_into_view_if_needed()
    shoot(page, "checkin-roster")
    page.get_by_role("button", name="保存打卡（离线也可）").click()
    expect(page.locator("#my-checkins")).to_contain_text("党史学习")
    expect_pending(page, 1)
    assert pwa_server.db.value("SELECT count(*) FROM checkins WHERE notes = ?", notes) == 0

    wait_synced(page, after=go_online(page))

    rows = pwa_server.db.rows(
        "SELECT id, participants, participant_ids, participant_names FROM checkins WHERE notes = ?",
        notes,
    )
    assert len(rows) == 1, "the check-in reached the server exactly once"
    checkin_id, participants, ids, sent_names = rows[0]
    expected = [(member_id, name) for member_id, name in picked if member_id != absent_id]
    assert participants == 15
    assert json.loads(ids) == [member_id for member_id, _ in expected]
    assert json.loads(sent_names) == [name for _, name in expected] + ["张三丰"]

    # Shenzhen's supervisor sees the Dayan group's check-in at Shenzhen's site.
    console = desk.new_page()
    console_sign_in(console, "shenzhen_supervisor")
    console.goto("/console/checkins")
    row = console.locator(f"tr[data-checkin='{checkin_id}']")
    expect(row).to_contain_text("柘坑戴村")
    expect(row).to_contain_text("大堰镇")
    expect(row.locator("td.num").first).to_have_text("15")
