"""Sync that is cut off halfway, and an app whose local database comes from the previous
version: nothing is lost and nothing reaches the server twice."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.webapp.helpers import (
    PASSWORD,
    WAIT_MS,
    ApiDevice,
    expect_pending,
    go_online,
    idb_outbox,
    page_clock,
    set_pin,
    sign_in,
    sync_now,
    unlock,
    wait_synced,
    wait_until,
)


def quick_case(page: Page, title: str) -> None:
    page.goto("/#/new-case")
    page.get_by_label("标题", exact=True).fill(title)
    page.get_by_label("类别").select_option("other")
    page.get_by_label("严重程度").select_option("medium")
    page.get_by_role("button", name="保存（离线也可）").click()
    expect(page.locator("#case-list")).to_contain_text(title)


def test_push_cut_off_after_the_server_applied_it_leaves_no_duplicate(
    browser_context: BrowserContext, pwa_server
) -> None:
    page = browser_context.new_page()
    sign_in(page, "shenzhen_worker")
    browser_context.set_offline(True)
    tag = uuid.uuid4().hex[:6]
    titles = [f"灌溉水渠纠纷 {tag}-{i}" for i in range(3)]
    for title in titles:
        quick_case(page, title)
    expect_pending(page, 3)

    # The server applies the push, but the connection drops before the phone hears back.
    delivered: list[int] = []

    def drop_response(route: Route) -> None:
        route.fetch()  # reaches the server and commits
        delivered.append(1)
        route.abort("internetdisconnected")

    page.route("**/api/v1/sync/push", drop_response)
    go_online(page)
    wait_until(page, lambda: delivered, "the push reached the server")
    count = "SELECT count(*) FROM cases WHERE title LIKE ?"
    assert pwa_server.db.value(count, f"%{tag}%") == 3
    expect_pending(page, 3)  # the phone never heard back, so it keeps all three

    page.unroute("**/api/v1/sync/push")
    wait_synced(page, after=sync_now(page))
    for title in titles:
        assert pwa_server.db.value("SELECT count(*) FROM cases WHERE title = ?", title) == 1
    # One stored result per mutation: the resend was answered from it (rule 2), not re-run.
    for (case_id,) in pwa_server.db.rows("SELECT id FROM cases WHERE title LIKE ?", f"%{tag}%"):
        receipts = "SELECT count(*) FROM mutation_receipts WHERE result LIKE ?"
        assert pwa_server.db.value(receipts, f"%{case_id}%") == 1
    page.goto("/#/cases")
    page.get_by_role("searchbox").fill(tag)
    expect(page.locator("#case-list li")).to_have_count(3)
    expect(page.locator("#case-list")).not_to_contain_text("待同步")
    expect(page.locator("#case-list")).to_contain_text(re.compile(r"SZ\d{4}-\d{5}"))


def test_page_closed_mid_sync_resumes_without_loss(
    browser_context: BrowserContext, pwa_server
) -> None:
    page = browser_context.new_page()
    sign_in(page, "xidian_worker")
    browser_context.set_offline(True)
    title = f"机耕路通行 {uuid.uuid4().hex[:6]}"
    quick_case(page, title)

    # The push is held in flight while the page is closed under it.
    held: list[Route] = []
    page.route("**/api/v1/sync/push", lambda route: held.append(route))
    go_online(page)
    wait_until(page, lambda: held, "a push was in flight")
    page.close()
    assert pwa_server.db.value("SELECT count(*) FROM cases WHERE title = ?", title) == 0

    page = browser_context.new_page()
    page.goto("/")
    unlock(page)  # the token is sealed: the app syncs once unlocked
    wait_synced(page)  # app start syncs again
    assert pwa_server.db.value("SELECT count(*) FROM cases WHERE title = ?", title) == 1
    page.goto("/#/cases")
    expect(page.locator("#case-list")).to_contain_text(title)


# A database as an earlier version of the app left it: signed in, one case captured offline
# and still in the outbox. Each layout is exactly what that version created.
OLD_DATABASE = """async ({version, auth, deviceId, caseId, mutationId, title}) => {
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open('fengling', version);
    open.onupgradeneeded = () => {
      const d = open.result;
      // version 1: no indexes, outbox entries without a status
      const records = d.createObjectStore('records', {keyPath: ['entity', 'id']});
      const outbox = d.createObjectStore('outbox', {keyPath: 'seq', autoIncrement: true});
      const blobs = d.createObjectStore('blobs', {keyPath: 'sha256'});
      d.createObjectStore('meta', {keyPath: 'key'});
      if (version >= 2) {
        records.createIndex('entity', 'entity');
        records.createIndex('case_id', 'data.case_id');
        outbox.createIndex('record_id', 'record_id');
        outbox.createIndex('status', 'status');
        blobs.createIndex('state', 'state');
      }
      // version 3: the case list's index
      if (version >= 3) records.createIndex('entity_reported', ['entity', 'data.reported_at']);
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const tx = db.transaction(['records', 'outbox', 'meta'], 'readwrite');
  const now = new Date().toISOString();
  const data = {title, category: 'other', primary_town: 'dayan', severity: 'medium'};
  if (version >= 2) data.reported_at = now; // version 2's form set it; the list's index uses it
  tx.objectStore('meta').put({key: 'device_id', value: deviceId});
  tx.objectStore('meta').put({key: 'auth', value: auth});
  tx.objectStore('records').put({entity: 'case', id: caseId, version: null, server: null,
                                 data: {...data, status: 'registered'}, confirmed: []});
  const entry = {mutation_id: mutationId, op: 'case.create', record_id: caseId, client_time: now,
                 data};
  const extra = {status: 'pending', entity: 'case', created_at: now, base_version: null};
  tx.objectStore('outbox').add(version >= 2 ? {...entry, ...extra} : entry);
  await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = reject; });
  db.close();
}"""


@pytest.mark.parametrize("old_version", [1, 2, 3])
def test_database_upgrade_keeps_the_outbox_and_lists_the_case(
    browser_context: BrowserContext, pwa_server, old_version: int
) -> None:
    # The old app signed in and kept its token, device id and user in meta.
    phone = ApiDevice(pwa_server.base_url, "dayan_worker")
    token = phone.session.headers["Authorization"].split()[1]
    phone.close()
    title = f"旧版本{old_version}离线登记 {uuid.uuid4().hex[:6]}"
    case_id, mutation_id = str(uuid.uuid4()), str(uuid.uuid4())
    page = browser_context.new_page()
    page.goto("/manifest.webmanifest")  # same origin, none of the app's code runs
    auth = {"token": token, "user": phone.user, "device_id": phone.device_id}
    page.evaluate(
        OLD_DATABASE,
        {
            "version": old_version,
            "auth": auth,
            "deviceId": phone.device_id,
            "caseId": case_id,
            "mutationId": mutation_id,
            "title": title,
        },
    )

    # The new app opens (and upgrades) the database; hold its first push to look inside.
    page.route("**/api/v1/sync/push", lambda route: route.abort("internetdisconnected"))
    page.goto("/")
    set_pin(page)  # the version before the PIN had none: the update asks for one
    expect(page.locator("#home-status")).to_be_visible(timeout=WAIT_MS)
    expect_pending(page, 1)
    stored = idb_outbox(page)
    assert stored["version"] == 4  # drafts added, the outbox kept as it was
    assert [(r["mutation_id"], r["status"]) for r in stored["rows"]] == [(mutation_id, "pending")]
    page.goto("/#/outbox")
    expect(page.locator("#outbox-pending")).to_contain_text(title)
    page.goto("/#/cases")  # the list's new index holds the case (version 1's: once all are read)
    expect(page.locator("#case-list")).to_contain_text(title)

    page.unroute("**/api/v1/sync/push")
    wait_synced(page, after=sync_now(page))
    assert pwa_server.db.value("SELECT count(*) FROM cases WHERE id = ?", case_id) == 1
    assert pwa_server.db.value("SELECT title FROM cases WHERE id = ?", case_id) == title


# The token is sealed at rest (vault.js): change it through the app's own storage.
FORGET_TOKEN = """async () => {
  const { getMeta, setMeta } = await import('/js/meta.js');
  await setMeta('auth', { ...(await getMeta('auth')), token: 'stale' });
}"""


def test_refused_session_keeps_unsent_work_until_signed_in_again(
    browser_context: BrowserContext, pwa_server
) -> None:
    page = browser_context.new_page()
    sign_in(page, "xiaojiang_worker")
    browser_context.set_offline(True)
    title = f"藤器加工工钱 {uuid.uuid4().hex[:6]}"
    quick_case(page, title)
    page.evaluate(FORGET_TOKEN)  # the server will no longer know this phone's token

    go_online(page)
    banner = page.locator("[data-banner=auth_problem]")
    expect(banner).to_contain_text("登录已失效，未同步的内容仍保存在本机。", timeout=WAIT_MS)
    expect(page.get_by_label("密码")).to_have_count(0)  # not thrown out to a login page
    expect(page.locator("#case-list")).to_contain_text(title)
    expect_pending(page, 1)
    assert pwa_server.db.value("SELECT count(*) FROM cases WHERE title = ?", title) == 0
    # The refused phone still exports its work as a file the console can import.
    with page.expect_download() as download:
        banner.get_by_role("button", name="导出未同步内容").click()
    exported = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert exported["format"] == "fengling-unsent-work"
    assert [m["data"]["title"] for m in json.loads(exported["content"])["mutations"]] == [title]

    banner.get_by_role("button", name="重新登录").click()
    expect(page.get_by_text("本机有 1 项未同步内容，重新登录后会继续发送。")).to_be_visible()
    # Not now (a revoked phone could not sign in at all): back to the work on the phone.
    page.get_by_role("link", name="返回查看本机内容").click()
    expect(page.locator("#home-pending")).to_contain_text("1 条记录")
    banner.get_by_role("button", name="重新登录").click()
    expect(page.get_by_label("用户名")).to_have_value("xiaojiang_worker")
    page.get_by_label("密码").fill(PASSWORD)
    signed_in_again = page_clock(page)
    page.get_by_role("button", name="登录", exact=True).click()
    wait_synced(page, after=signed_in_again)
    expect(banner).to_have_count(0)
    assert pwa_server.db.value("SELECT count(*) FROM cases WHERE title = ?", title) == 1
