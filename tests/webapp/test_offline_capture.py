"""A worker with no signal: the app opens offline, captures a case and a check-in, and they
reach the server exactly once when the network returns, then another device sees them."""

from __future__ import annotations

import json
import re
import uuid

from playwright.sync_api import BrowserContext, Page, expect

from tests.webapp.helpers import (
    WAIT_MS,
    ApiDevice,
    expect_pending,
    go_online,
    open_offline_app,
    photo_file,
    shoot,
    sign_in,
    unlock,
    wait_synced,
)


def capture_case(page: Page, title: str) -> None:
    page.goto("/#/new-case")
    page.get_by_label("标题", exact=True).fill(title)
    page.get_by_label("类别").select_option("land")
    page.get_by_role("checkbox", name="深甽镇").check()
    page.get_by_label("姓名").first.fill("李某")
    page.get_by_label("姓名").nth(1).fill("王某")
    page.get_by_label("情况描述").fill("两户因山林界桩位置发生争执，现场拍照取证。")
    page.get_by_label("严重程度").select_option("high")
    expect(page.locator("#gps-live")).to_contain_text("当前定位")  # watched while open
    page.get_by_role("button", name="获取位置").click()
    expect(page.locator("#gps-text")).to_contain_text("±12 米")
    page.get_by_label("拍照或选择照片").set_input_files(
        [photo_file("a.png", (200, 30, 30)), photo_file("b.png", (30, 90, 200))]
    )
    expect(page.get_by_text("已添加 2 张照片")).to_be_visible()
    shoot(page, "new-case")
    page.get_by_role("button", name="保存（离线也可）").click()
    expect(page.locator("#case-list")).to_contain_text(title)


def capture_checkin(page: Page, notes: str) -> None:
    page.goto("/#/route")
    site = page.locator("[data-site=dayan_alliance_hall]")
    expect(site).to_contain_text("距离 0 m")
    shoot(page, "route")
    site.get_by_role("link", name="在此打卡").click()
    expect(page.locator("#checkin-verdict")).to_contain_text("在点位范围内，可核验")
    page.get_by_label("活动", exact=True).select_option("party_history_study")
    page.get_by_label("参加人数").fill("12")
    page.get_by_label("添加人员").fill("戴某")
    page.get_by_role("button", name="添加人员").click()
    page.get_by_label("备注").fill(notes)
    page.get_by_label("拍照或选择照片").set_input_files([photo_file("c.png", (20, 160, 60))])
    expect(page.get_by_text("已添加 1 张照片")).to_be_visible()
    shoot(page, "checkin")
    page.get_by_role("button", name="保存打卡（离线也可）").click()
    expect(page.locator("#my-checkins")).to_contain_text("党史学习")


def test_offline_capture_reaches_server_once_and_second_device(
    persistent_phone, pwa_server, second_context: BrowserContext
) -> None:
    title = f"山林界桩争议 {uuid.uuid4().hex[:6]}"
    notes = f"主题党日 {uuid.uuid4().hex[:6]}"
    phone = persistent_phone()
    page = phone.pages[0]
    sign_in(page, "dayan_worker", screenshot="login")
    shoot(page, "home")

    # Reload offline, then a cold start: the browser closed and reopened without network.
    phone.set_offline(True)
    page.reload()
    unlock(page)
    expect(page.locator("#home-status")).to_be_visible(timeout=WAIT_MS)
    phone.close()
    phone = persistent_phone()
    page = open_offline_app(phone)

    capture_case(page, title)
    capture_checkin(page, notes)
    expect_pending(page, 5)  # two intents and three photos
    assert pwa_server.db.value("SELECT count(*) FROM cases WHERE title = ?", title) == 0

    # Cold start again while still offline: nothing typed is lost.
    phone.close()
    phone = persistent_phone()
    page = open_offline_app(phone)
    expect_pending(page, 5)
    page.goto("/#/cases")
    shoot(page, "cases-offline")
    expect(page.locator("#case-list")).to_contain_text(title)

    wait_synced(page, after=go_online(page))  # the app's online handler starts the sync by itself

    db = pwa_server.db
    rows = db.rows("SELECT id, photos, location, involved_towns FROM cases WHERE title = ?", title)
    assert len(rows) == 1, "the case reached the server exactly once"
    case_id, photos, location, involved = rows[0]
    photos = json.loads(photos)
    assert len(photos) == 2
    assert json.loads(involved) == ["shenzhen"]
    assert abs(json.loads(location)["lat"] - 29.4812) < 1e-6
    assert re.match(r"\d{4}-\d\d-\d\dT", json.loads(location)["fix_at"])  # the fix's own time
    checkins = db.rows(
        "SELECT id, verified, participants, photos FROM checkins WHERE notes = ?", notes
    )
    assert len(checkins) == 1, "the check-in reached the server exactly once"
    assert checkins[0][1] == 1 and checkins[0][2] == 12
    hashes = photos + json.loads(checkins[0][3])
    stored = db.value(
        f"SELECT count(*) FROM blobs WHERE sha256 IN ({','.join('?' * len(hashes))})", *hashes
    )
    assert stored == 3, "every photo was uploaded"

    page.goto(f"/#/case/{case_id}")
    expect(page.locator("#case-head img[data-loaded=yes]")).to_have_count(2)
    expect(page.locator("#case-head")).to_contain_text(re.compile(r"DY\d{4}-\d{5}"))
    shoot(page, "case-detail")

    # A second device (the town supervisor's phone) sees the case and its photos after its sync.
    other = second_context.new_page()
    sign_in(other, "dayan_supervisor")
    other.goto("/#/cases")
    other.get_by_role("searchbox").fill(title)
    expect(other.locator("#case-list li")).to_have_count(1)
    other.locator("#case-list a").first.click()
    expect(other.locator("#case-head img[data-loaded=yes]")).to_have_count(2, timeout=WAIT_MS)
    api = ApiDevice(pwa_server.base_url, "dayan_supervisor")
    try:
        seen = [c for c in api.pull_all() if c["entity"] == "checkin"]
        assert [c["data"]["notes"] for c in seen].count(notes) == 1
    finally:
        api.close()
