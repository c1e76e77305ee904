"""One intent the server cannot process (a bug answering 500) does not hold back the others:
the app halves the failing batch until it is alone, sets it aside as 服务器无法处理 with
retry and export, and sends everything else."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, Request, Route, expect

from testkit.chromium import context_options
from tests.webapp.helpers import (
    expect_pending,
    go_online,
    page_clock,
    shoot,
    sign_in,
    sync_now,
    wait_synced,
    wait_until,
)

# Three failures in a row come with backoff (1-2 s, then 2-4 s) before the isolation starts.
ISOLATION_MS = 40_000


@pytest.fixture
def phone(pwa_browser, pwa_server) -> Iterator[BrowserContext]:
    """A 390 x 844 phone with a fresh profile."""
    options = {**context_options(pwa_server.base_url), "viewport": {"width": 390, "height": 844}}
    context = pwa_browser.new_context(**options)
    yield context
    context.close()


def capture(page: Page, title: str) -> None:
    page.goto("/#/new-case")
    page.get_by_label("标题", exact=True).fill(title)
    page.get_by_label("类别").select_option("other")
    page.get_by_label("严重程度").select_option("medium")
    page.get_by_role("button", name="保存（离线也可）").click()
    expect(page.locator("#case-list")).to_contain_text(title)


def titles_in(request: Request) -> list[str]:
    body = request.post_data_json or {}
    return [m.get("data", {}).get("title", "") for m in body.get("mutations", [])]


def test_a_poisoned_intent_is_set_aside_and_the_others_are_applied(
    phone: BrowserContext, pwa_server
) -> None:
    tag = uuid.uuid4().hex[:6]
    marker = f"服务器出错 {tag}"
    others = [f"河道采砂 {tag}-{i}" for i in range(3)]
    page = phone.new_page()
    sign_in(page, "xiaojiang_worker")
    phone.set_offline(True)
    capture(page, others[0])
    capture(page, marker)
    for title in others[1:]:
        capture(page, title)
    expect_pending(page, 4)

    # The server has a bug with exactly one of them: any push holding it answers 500.
    failed: list[int] = []

    def server_with_a_bug(route: Route) -> None:
        titles = titles_in(route.request)
        if marker in titles:
            failed.append(len(titles))
            route.fulfill(
                status=500,
                content_type="application/json",
                body=json.dumps({"error": {"code": "internal_error", "message": "服务器内部错误"}}),
            )
        else:
            route.continue_()

    page.route("**/api/v1/sync/push", server_with_a_bug)
    go_online(page)

    count = "SELECT count(*) FROM cases WHERE title = ?"
    wait_until(
        page,
        lambda: all(pwa_server.db.value(count, t) == 1 for t in others),
        "the other cases reached the server",
        timeout_ms=ISOLATION_MS,
    )
    assert failed[:3] == [4, 4, 4], "the whole batch failed three times before halving"
    assert failed[-1] == 1, "isolated down to the one intent"
    assert pwa_server.db.value(count, marker) == 0

    page.goto("/#/outbox")
    held = page.locator("#outbox-held .rejection")
    expect(held).to_have_count(1, timeout=ISOLATION_MS)
    expect(held).to_contain_text(marker)
    expect(held).to_contain_text("服务器无法处理此记录，已保留在手机上")
    expect(page.locator("#outbox-held h2")).to_have_text("服务器无法处理（1）")
    expect(page.locator("#outbox-pending h2")).to_have_text("等待发送：0 条记录，0 张照片")
    shoot(page, "outbox-held")

    # Not sent again by itself: a sync now leaves it alone.
    pushes_before = len(failed)
    wait_synced(page, after=sync_now(page))
    assert len(failed) == pushes_before
    page.goto("/#/cases")
    expect(page.locator("#case-list li").filter(has_text=marker)).to_contain_text("服务器无法处理")

    page.goto("/#/outbox")
    with page.expect_download() as download:
        held.get_by_role("button", name="导出").click()
    exported = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert exported["format"] == "fengling-unsent-work"
    content = json.loads(exported["content"])
    assert [m["data"]["title"] for m in content["mutations"]] == [marker]

    # The bug is fixed: 重试 sends it, with the same mutation id, exactly once.
    page.unroute("**/api/v1/sync/push")
    retried = page.locator("#outbox-held .rejection")
    before = page_clock(page)
    retried.get_by_role("button", name="重试").click()
    wait_synced(page, after=before)  # a sync that started after the tap (pending is 0 before it)
    expect(page.locator("#outbox-held")).to_have_count(0)
    assert pwa_server.db.value(count, marker) == 1


def add_note(page: Page, case_title: str, note: str) -> None:
    page.goto("/#/cases")
    page.locator("#case-list li").filter(has_text=case_title).get_by_role("link").click()
    form = page.locator("#event-form")
    form.get_by_label("内容").fill(note)
    form.get_by_role("button", name="添加记录").click()
    expect(page.locator("#timeline .event").filter(has_text=note)).to_have_count(1)


def test_a_held_case_keeps_its_timeline_until_retried(phone: BrowserContext, pwa_server) -> None:
    """A held new case takes its timeline along: sent alone, a note would be refused for good
    (the server does not have its case). Saved later, a note waits with it too; 重试 on the note
    sends both."""
    tag = uuid.uuid4().hex[:6]
    marker = f"服务器出错 {tag}"
    other = f"河道采砂 {tag}"
    note, later = f"现场调解 {tag}", f"回访 {tag}"
    page = phone.new_page()
    sign_in(page, "xiaojiang_worker")
    phone.set_offline(True)
    capture(page, marker)
    add_note(page, marker, note)
    capture(page, other)
    expect_pending(page, 3)

    pushed: list[list[str]] = []

    def server_with_a_bug(route: Route) -> None:
        mutations = (route.request.post_data_json or {}).get("mutations", [])
        pushed.append([m["data"].get("title") or m["data"].get("body") or "" for m in mutations])
        if marker in pushed[-1]:
            route.fulfill(
                status=500,
                content_type="application/json",
                body=json.dumps({"error": {"code": "internal_error", "message": "服务器内部错误"}}),
            )
        else:
            route.continue_()

    page.route("**/api/v1/sync/push", server_with_a_bug)
    go_online(page)
    count = "SELECT count(*) FROM cases WHERE title = ?"
    wait_until(page, lambda: pwa_server.db.value(count, other) == 1, "the other case", ISOLATION_MS)
    page.goto("/#/outbox")
    held = page.locator("#outbox-held .rejection")
    expect(held).to_have_count(2, timeout=ISOLATION_MS)
    expect(held.filter(has_text="等待所属案件：案件重试时一起发送")).to_have_count(1)
    expect(page.locator("#outbox-rejected .rejection")).to_have_count(0)

    add_note(page, marker, later)
    page.goto("/#/outbox")
    expect(held).to_have_count(3)
    expect(page.locator("#outbox-pending h2")).to_have_text("等待发送：0 条记录，0 张照片")
    wait_synced(page, after=sync_now(page))
    for batch in pushed:
        assert marker in batch or not {note, later} & set(batch), f"sent without its case: {batch}"

    page.unroute("**/api/v1/sync/push")
    notes = page.locator('#outbox-held .rejection[data-op="case_event.create"]')
    expect(notes).to_have_count(2)
    before = page_clock(page)
    notes.last.get_by_role("button", name="重试").click()  # a note: its case goes with it
    wait_synced(page, after=before)
    expect(page.locator("#outbox-held")).to_have_count(0)
    expect(page.locator("#outbox-rejected .rejection")).to_have_count(0)
    case_id = pwa_server.db.value("SELECT id FROM cases WHERE title = ?", marker)
    bodies = "SELECT body FROM case_events WHERE case_id = ? AND kind = 'note' ORDER BY body"
    assert [r[0] for r in pwa_server.db.rows(bodies, case_id)] == sorted([note, later])
