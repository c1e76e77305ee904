"""The supervisor console in a real browser: sign in, filter the queue, open a case,
escalate it to joint enforcement, resolve a merge conflict, download the queue as XLSX."""

from __future__ import annotations

import io
import uuid

import openpyxl
from playwright.sync_api import expect

from tests.webapp.helpers import ApiDevice, console_sign_in, shoot


def a_case_with_a_conflict(base_url: str, marker: str) -> str:
    """A cross-town case a Dayan worker registered, then retitled from two phones at once."""
    phone, other_phone = ApiDevice(base_url, "dayan_worker"), ApiDevice(base_url, "dayan_worker")
    case_id = str(uuid.uuid4())
    [created] = phone.push(
        {
            "op": "case.create",
            "record_id": case_id,
            "data": {
                "title": f"交界山塘放水纠纷 {marker}",
                "category": "water",
                "primary_town": "dayan",
                "involved_towns": ["shenzhen"],
                "severity": "high",
                "parties": [{"name": "陈阿宝", "role": "applicant"}],
                "description": "上游放水淹了下游农田",
            },
        }
    )
    assert created["status"] == "applied", created
    for device, title in (
        (phone, f"山塘放水纠纷（已核实）{marker}"),
        (other_phone, f"山塘纠纷 {marker}"),
    ):
        device.push(
            {"op": "case.update", "record_id": case_id, "base_version": 1, "data": {"title": title}}
        )
    phone.close()
    other_phone.close()
    return case_id


def test_a_supervisor_escalates_resolves_a_conflict_and_exports(desk, pwa_server):
    marker = uuid.uuid4().hex[:6]
    case_id = a_case_with_a_conflict(pwa_server.base_url, marker)
    page = desk.new_page()
    console_sign_in(page, "dayan_supervisor")
    shoot(page, "console-queue")

    # Filter the queue down to this case.
    page.get_by_label("搜索").fill(marker)
    page.locator("#filters select[name=status]").select_option("registered")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("#queue tbody tr[data-case]")
    expect(rows).to_have_count(1)
    expect(page.locator(".status-counts a[data-status=registered] strong")).to_have_text("1")

    # Open it, accept it and escalate it to joint enforcement.
    rows.first.locator("td").nth(1).get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text(marker)
    page.get_by_role("button", name="受理", exact=True).click()
    expect(page.locator(".message.ok")).to_be_visible()
    escalate = page.locator("form.move").filter(has=page.get_by_role("button", name="提交联合执法"))
    escalate.get_by_placeholder("说明（可选）").fill("跨镇水事，提交五镇联合执法")
    escalate.get_by_role("button").click()
    expect(page.locator("h1 .badge.status-escalated")).to_have_text("提交联合执法")
    expect(page.locator("#timeline li[data-kind=escalation]")).to_contain_text("提交五镇联合执法")
    shoot(page, "console-case")

    # The title one phone set aside is a conflict: the supervisor takes it.
    page.get_by_role("link", name="冲突", exact=True).click()
    conflict = page.locator("article.conflict").filter(has_text=marker)
    expect(conflict).to_have_count(1)
    expect(conflict.locator(".incoming")).to_have_text(f"山塘纠纷 {marker}")
    conflict.get_by_role("button", name="采用被搁置的值").click()
    expect(page.locator(".message.ok")).to_contain_text("已采用被搁置的值")

    # Download the filtered queue as XLSX and read it back.
    page.goto(f"/console/cases?q={marker}")
    with page.expect_download() as download:
        page.get_by_role("link", name="XLSX").click()
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    header, *cases = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert header[:3] == ("编号", "标题", "状态") or header[:3] == ["编号", "标题", "状态"]
    assert len(cases) == 1
    assert cases[0][1] == f"山塘纠纷 {marker}" and cases[0][2] == "提交联合执法"

    # A Shenzhen worker's phone sees the escalation and the settled title on its next pull.
    shenzhen = ApiDevice(pwa_server.base_url, "shenzhen_worker")
    latest = {c["record_id"]: c for c in shenzhen.pull_all() if c["entity"] == "case"}
    shenzhen.close()
    assert latest[case_id]["data"]["status"] == "escalated"
    assert latest[case_id]["data"]["title"] == f"山塘纠纷 {marker}"
