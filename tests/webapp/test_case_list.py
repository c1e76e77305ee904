"""A phone holding more cases than one page: the list opens on the newest at once, and search,
filters and "more" still cover every case."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from playwright.sync_api import Browser, expect

from testkit.chromium import context_options
from tests.webapp.helpers import WAIT_MS, ApiDevice, sign_in, unlock

NEWEST_DEMO_CASE = "两村山林交界处毛竹采伐权属争议"  # the demo seed reports it last

# The first page straight from the newest-first index (in one request, and with a cursor as
# browsers without getAllRecords read it), the same page of the full sort, and what the list
# shows: one order everywhere, also among cases reported at the same time.
LIST_ORDERS = """async () => {
  const { list, newest } = await import('/js/records.js');
  const { filterCases } = await import('/js/sync-rules.js');
  const ids = (rows) => rows.map((r) => r.id);
  const index = ids(await newest('case', 50));
  const getAllRecords = IDBIndex.prototype.getAllRecords;
  delete IDBIndex.prototype.getAllRecords;
  const cursor = ids(await newest('case', 50));
  if (getAllRecords) IDBIndex.prototype.getAllRecords = getAllRecords;
  return {
    index,
    cursor,
    sorted: ids(filterCases(await list('case'), {}, null).slice(0, 50)),
    shown: [...document.querySelectorAll('#case-list li.item')].map((li) => li.dataset.id),
  };
}"""


def old_case(number: int, reported_at: datetime) -> dict:
    data = {
        "title": f"第{number:03d}号旧案",
        "category": "neighbours",
        "primary_town": "dayan",
        "severity": "low",
        "reported_at": reported_at.isoformat(),
    }
    return {"op": "case.create", "record_id": str(uuid.uuid4()), "data": data}


def test_list_opens_on_the_newest_cases_and_search_finds_an_old_one(
    pwa_browser: Browser, own_pwa_server
) -> None:
    # 70 cases from a month before the oldest demo case, ten to each hour: older than all
    # five, whatever the date the demo was seeded on (its own clock, not the suite's).
    admin = ApiDevice(own_pwa_server.base_url, "admin")
    oldest_demo_case = min(
        datetime.fromisoformat(change["data"]["reported_at"])
        for change in admin.pull_all()
        if change["entity"] == "case" and change.get("data")
    )
    month_before = oldest_demo_case - timedelta(days=30)
    for hour in range(7):
        at = month_before + timedelta(hours=hour)
        results = admin.push(*[old_case(hour * 10 + k, at) for k in range(10)])
        assert {r["status"] for r in results} == {"applied"}
    admin.close()

    context = pwa_browser.new_context(**context_options(own_pwa_server.base_url))
    try:
        page = context.new_page()
        sign_in(page, "admin")
        page.goto("/#/cases")
        page.reload()  # the app opened with all 75 cases on the phone
        unlock(page)
        items = page.locator("#case-list li.item")
        expect(items.first).to_contain_text(NEWEST_DEMO_CASE)
        expect(page.locator("#case-count")).to_have_text("共 75 件", timeout=WAIT_MS)
        expect(items).to_have_count(50)
        orders = page.evaluate(LIST_ORDERS)
        assert orders["index"] == orders["cursor"] == orders["sorted"] == orders["shown"]

        search = page.get_by_role("searchbox")
        search.fill("第003号旧案")
        expect(page.locator("#case-count")).to_have_text("共 1 件")
        expect(items).to_have_count(1)
        search.fill("")
        page.get_by_role("button", name="显示更多").click()
        expect(items).to_have_count(75)
        expect(items.last).to_contain_text("旧案")

        # Typed the moment the list appears, while the rest may still be being read: kept.
        page.reload()
        unlock(page)
        expect(items.first).to_be_visible(timeout=WAIT_MS)
        search.press_sequentially("第000号")
        expect(search).to_have_value("第000号")
        expect(page.locator("#case-count")).to_have_text("共 1 件", timeout=WAIT_MS)
        expect(items).to_contain_text(["第000号旧案"])
    finally:
        context.close()
