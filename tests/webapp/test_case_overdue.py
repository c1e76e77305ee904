"""The phone shows 超期 on a case past its due date while it is open, worked out from the
case's status and due date (the server sends no overdue flag), and drops it once resolved."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from playwright.sync_api import BrowserContext, expect

from tests.webapp.helpers import ApiDevice, sign_in, sync_now, wait_synced


def test_a_case_past_its_due_date_shows_overdue_until_resolved(
    browser_context: BrowserContext, pwa_server
) -> None:
    admin = ApiDevice(pwa_server.base_url, "admin")
    title = f"邻里噪音 {uuid.uuid4().hex[:6]}"
    case_id = admin.create_case(title)  # low severity: due 15 days after registration
    [data] = [
        c["data"] for c in admin.pull_all() if c["entity"] == "case" and c["record_id"] == case_id
    ]
    assert "is_overdue" not in data
    due_at = data["due_at"]
    due = datetime.fromisoformat(due_at.replace("Z", "+00:00"))

    page = browser_context.new_page()
    sign_in(page, "dayan_supervisor")
    page.goto(f"/#/case/{case_id}")
    expect(page.locator("#case-title")).to_have_text(title)
    expect(page.locator("#case-overdue")).to_have_count(0)

    # The phone's own day passes the due date (the server's clock is the real one).
    page.clock.set_system_time(due + timedelta(hours=1))
    page.goto("/#/home")
    page.goto(f"/#/case/{case_id}")
    expect(page.locator("#case-overdue")).to_have_text("超期")

    for frm, to in (("registered", "accepted"), ("accepted", "mediating")):
        assert admin.move(case_id, frm, to)["status"] == "applied"
    assert admin.move(case_id, "mediating", "resolved")["status"] == "applied"
    admin.close()
    wait_synced(page, after=sync_now(page))
    page.goto("/#/home")
    page.goto(f"/#/case/{case_id}")
    expect(page.locator("#case-status")).to_have_text("已化解")
    expect(page.locator("#case-overdue")).to_have_count(0)
