"""GPS a supervisor can trust, on the whole alliance route.

A grid worker checks in with the fix the phone is watching: a fresh fix at the site verifies;
a fix that was five minutes old when the check-in was saved is kept but flagged, and the phone
says why in words; with location permission denied the check-in still saves, flagged "no fix".
A Dayan worker checks in at a 深甽 site with no signal, and it reaches the server once."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from playwright.sync_api import BrowserContext, Page, expect

from tests.webapp.helpers import (
    WAIT_MS,
    ApiDevice,
    expect_pending,
    go_online,
    shoot,
    sign_in,
    sync_now,
    wait_synced,
)

ZHEKENG = {"latitude": 29.3655, "longitude": 121.2731, "accuracy": 15}  # 柘坑戴村, 深甽
VERDICT_WAIT_MS = 20_000  # the form re-reads a fix's age every 10 seconds


def open_checkin(page: Page, site_code: str) -> None:
    page.goto("/#/route")
    page.locator(f"li[data-site={site_code}]").get_by_role("link", name="在此打卡").click()
    expect(page.locator("#save-checkin")).to_be_enabled()


def fill_and_save(page: Page, notes: str, participants: int = 12) -> None:
    page.get_by_label("活动", exact=True).select_option("party_history_study")
    page.get_by_label("参加人数").fill(str(participants))
    page.get_by_label("备注").fill(notes)
    page.get_by_role("button", name="保存打卡（离线也可）").click()
    expect(page.locator("#my-checkins")).to_be_visible(timeout=WAIT_MS)


def stored(pwa_server, notes: str) -> list[tuple]:
    return pwa_server.db.rows(
        "SELECT id, verified, unverified_reason, town, lat, fix_at FROM checkins WHERE notes = ?",
        notes,
    )


def my_checkin(page: Page, checkin_id: str):
    return page.locator(f"#my-checkins li[data-checkin='{checkin_id}']")


def test_a_fresh_fix_verifies_and_a_five_minute_old_one_is_flagged_in_words(
    browser_context: BrowserContext, pwa_server
) -> None:
    page = browser_context.new_page()
    sign_in(page, "dayan_worker")

    fresh = f"现场打卡 {uuid.uuid4().hex[:6]}"
    open_checkin(page, "dayan_alliance_hall")
    verdict = page.locator("#checkin-verdict")
    expect(verdict).to_contain_text("±12 米")
    expect(verdict).to_contain_text("在点位范围内，可核验")
    expect(page.locator("#checkin-accuracy")).to_be_hidden()
    shoot(page, "checkin-gps")
    fill_and_save(page, fresh)
    wait_synced(page, after=sync_now(page))
    [(fresh_id, verified, reason, town, _lat, fix_at)] = stored(pwa_server, fresh)
    assert (verified, reason, town) == (1, None, "dayan") and fix_at
    expect(my_checkin(page, fresh_id)).to_contain_text("已核验")

    # The form opened and took its fix; indoors no newer one comes, and the worker takes five
    # minutes over the form (touching it now and then, so the app does not lock).
    old = f"五分钟后保存 {uuid.uuid4().hex[:6]}"
    open_checkin(page, "dayan_alliance_hall")
    expect(verdict).to_contain_text("在点位范围内，可核验")
    opened = datetime.fromisoformat(
        page.evaluate("new Date().toISOString()").replace("Z", "+00:00")
    )
    page.clock.set_system_time(opened + timedelta(minutes=2, seconds=30))
    page.get_by_label("活动", exact=True).select_option("party_history_study")
    page.clock.set_system_time(opened + timedelta(minutes=5))
    page.get_by_label("参加人数").fill("12")
    expect(verdict).to_contain_text("定位不是打卡时取得的", timeout=VERDICT_WAIT_MS)
    page.locator("h1").scroll_into_view_if_needed()
    shoot(page, "checkin-stale-fix")
    fill_and_save(page, old)
    wait_synced(page, after=sync_now(page))
    [(old_id, verified, reason, *_rest)] = stored(pwa_server, old)
    assert (verified, reason) == (0, "stale_fix")
    expect(my_checkin(page, old_id)).to_contain_text(
        "未核验：定位不是打卡时取得的（相差超过两分钟）"
    )
    assert "stale_fix" not in page.locator("#my-checkins").inner_text()
    page.locator("#my-checkins").scroll_into_view_if_needed()
    shoot(page, "route-checkins-verdicts")


def test_with_location_denied_a_checkin_saves_as_no_fix(
    browser_context: BrowserContext, pwa_server
) -> None:
    page = browser_context.new_page()
    sign_in(page, "dayan_worker")
    browser_context.clear_permissions()

    notes = f"没有定位 {uuid.uuid4().hex[:6]}"
    open_checkin(page, "dayan_alliance_hall")
    verdict = page.locator("#checkin-verdict")
    expect(verdict).to_contain_text("没有定位权限", timeout=WAIT_MS)
    expect(verdict).to_contain_text("没有定位也可以保存")
    fill_and_save(page, notes, participants=3)
    wait_synced(page, after=sync_now(page))

    [(checkin_id, verified, reason, _town, lat, fix_at)] = stored(pwa_server, notes)
    assert (verified, reason, lat, fix_at) == (0, "no_fix", None, None)
    expect(my_checkin(page, checkin_id)).to_contain_text("未核验：没有定位")


def test_a_dayan_worker_checks_in_at_a_shenzhen_site_offline_and_it_arrives_once(
    browser_context: BrowserContext, pwa_server
) -> None:
    page = browser_context.new_page()
    sign_in(page, "dayan_worker")
    browser_context.set_geolocation(ZHEKENG)

    # The route: every town's site, drawn offline, with the worker on it and the next stop.
    page.goto("/#/route")
    expect(page.locator("#route-map svg g.route-site")).to_have_count(5)
    expect(page.locator("#route-map svg g.route-you")).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator("li[data-site] a", has_text="在此打卡")).to_have_count(5)
    expect(page.locator("li[data-site=xiaojiang_zhongxikou]")).to_contain_text("小将镇")
    expect(page.locator("#route-next")).to_contain_text("下一个未打卡点位")
    shoot(page, "route-map")

    browser_context.set_offline(True)
    expect(page.locator("#net-badge")).to_have_text("离线", timeout=WAIT_MS)
    notes = f"大堰学习小组在柘坑戴村 {uuid.uuid4().hex[:6]}"
    open_checkin(page, "zhekeng_daicun")
    expect(page.locator("#checkin-verdict")).to_contain_text("在点位范围内，可核验")
    fill_and_save(page, notes)
    expect(page.locator("li[data-site=zhekeng_daicun]")).to_contain_text("已打卡")
    expect(page.locator("#route-map g.route-site.visited[data-stop=zhekeng_daicun]")).to_have_count(
        1
    )
    expect_pending(page, 1)
    assert stored(pwa_server, notes) == []

    wait_synced(page, after=go_online(page))
    [(checkin_id, verified, reason, town, *_rest)] = stored(pwa_server, notes)
    assert (verified, reason, town) == (1, None, "dayan")
    expect(my_checkin(page, checkin_id)).to_contain_text("已核验", timeout=WAIT_MS)

    # 深甽's people see it (the site is theirs); 西店's do not.
    for username, sees in (("shenzhen_worker", 1), ("xidian_worker", 0)):
        api = ApiDevice(pwa_server.base_url, username)
        try:
            seen = [
                c
                for c in api.pull_all()
                if c["entity"] == "checkin" and c.get("data", {}).get("notes") == notes
            ]
            assert len(seen) == sees, username
        finally:
            api.close()
