"""Unsent work always has a way home: a worker records a case offline, exports it, and the
town supervisor imports the file at the console. The case is there once; when the phone comes
back online its own push of the same intents is answered with replays and nothing is doubled."""

from __future__ import annotations

import json
import uuid

from playwright.sync_api import BrowserContext, Route, expect

from tests.webapp.helpers import (
    WAIT_MS,
    console_sign_in,
    expect_pending,
    go_online,
    photo_file,
    shoot,
    sign_in,
    wait_synced,
)


def test_exported_work_imported_at_the_console_arrives_once_and_the_phone_replays_it(
    browser_context: BrowserContext, desk: BrowserContext, pwa_server
) -> None:
    marker = uuid.uuid4().hex[:6]
    title = f"竹林界桩争议 {marker}"
    phone = browser_context.new_page()
    sign_in(phone, "dayan_worker")

    # No signal for the rest of the day: a case with a photo stays on the phone.
    browser_context.set_offline(True)
    phone.goto("/#/new-case")
    phone.get_by_label("标题", exact=True).fill(title)
    phone.get_by_label("类别").select_option("land")
    phone.get_by_label("严重程度").select_option("high")
    phone.get_by_label("拍照或选择照片").set_input_files([photo_file("p.png", (120, 80, 30))])
    expect(phone.get_by_text("已添加 1 张照片")).to_be_visible()
    phone.get_by_role("button", name="保存（离线也可）").click()
    expect(phone.locator("#case-list")).to_contain_text(title)
    expect_pending(phone, 2)  # the case and its photo

    phone.goto("/#/settings")
    with phone.expect_download() as download:
        phone.get_by_role("button", name="导出未同步内容").click()
    exported = download.value.path()
    content = json.loads(json.loads(exported.read_text(encoding="utf-8"))["content"])
    [mutation] = content["mutations"]
    assert mutation["op"] == "case.create" and mutation["data"]["title"] == title
    assert [p["sha256"] for p in content["photos"]] == mutation["data"]["photos"]

    # The town supervisor imports the file at the console.
    console = desk.new_page()
    console_sign_in(console, "dayan_supervisor")
    console.get_by_role("link", name="被拒记录", exact=True).click()
    console.get_by_role("link", name="导入手机导出的待同步数据").click()
    console.get_by_label("导出的文件").set_input_files(str(exported))
    console.get_by_role("button", name="导入", exact=True).click()
    expect(console.locator("#import-counts")).to_contain_text("已应用 1 项", timeout=WAIT_MS)
    expect(console.locator("#import-photos")).to_contain_text("新保存 1 张")
    line = console.locator("#import-lines tbody tr")
    expect(line).to_have_count(1)
    expect(line).to_contain_text("登记案件")
    expect(line).to_contain_text(title)
    expect(line.locator(".outcome")).to_have_text("已应用")
    shoot(console, "console-import")

    console.goto(f"/console/cases?q={marker}")
    expect(console.locator("#queue tbody tr[data-case]")).to_have_count(1)
    db = pwa_server.db
    assert db.value("SELECT count(*) FROM cases WHERE title = ?", title) == 1
    assert db.value("SELECT count(*) FROM blobs WHERE sha256 = ?", content["photos"][0]["sha256"])

    # The phone comes back online and syncs: the server replays what the import applied.
    results: list[dict] = []

    def recording(route: Route) -> None:
        response = route.fetch()
        results.extend(response.json()["results"])
        route.fulfill(response=response)

    phone.route("**/api/v1/sync/push", recording)
    wait_synced(phone, after=go_online(phone))
    assert [(r["mutation_id"], r["status"], r.get("replayed")) for r in results] == [
        (mutation["mutation_id"], "applied", True)
    ]
    assert db.value("SELECT count(*) FROM cases WHERE title = ?", title) == 1
    phone.goto("/#/cases")
    expect(phone.locator("#case-list li").filter(has_text=marker)).to_have_count(1)
