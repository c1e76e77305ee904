"""A lost phone gives nothing away: the PIN lock, encryption at rest, the wrong-PIN limit,
recovery with the password, and the wipe after revocation (docs/pwa.md, "PIN and lock")."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

from playwright.sync_api import BrowserContext, Page, expect

from tests.webapp.conftest import FENGLING
from tests.webapp.helpers import (
    PASSWORD,
    PIN,
    WAIT_MS,
    expect_pending,
    go_online,
    page_clock,
    photo_file,
    set_pin,
    sign_in,
    unlock,
    wait_synced,
)

# Every row of every store, as raw as IndexedDB gives it back; bytes and blobs decoded as UTF-8
# text, so plaintext written anywhere (a sealed field or not) would show up in it.
RAW_INDEXEDDB = """async () => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open('fengling');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const flat = async (value) => {
    if (value instanceof Blob) return decoder.decode(await value.arrayBuffer());
    if (value instanceof ArrayBuffer) return decoder.decode(value);
    if (ArrayBuffer.isView(value)) return decoder.decode(value);
    if (Array.isArray(value)) return Promise.all(value.map(flat));
    if (value && typeof value === 'object') {
      const out = {};
      for (const [k, v] of Object.entries(value)) out[k] = await flat(v);
      return out;
    }
    return value;
  };
  const dump = {};
  for (const name of db.objectStoreNames) {
    const rows = await new Promise((resolve, reject) => {
      const request = db.transaction(name).objectStore(name).getAll();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    dump[name] = await flat(rows);
  }
  db.close();
  return dump;
}"""

# What the version before the PIN left on a phone, written as it wrote it: all in clear.
OLD_VERSION_DATA = """async ({ marker, recordId }) => {
  const db = await new Promise((resolve) => {
    const r = indexedDB.open('fengling');
    r.onsuccess = () => resolve(r.result);
  });
  const tx = db.transaction(['outbox', 'records', 'drafts', 'blobs'], 'readwrite');
  const now = new Date().toISOString();
  const data = {
    title: `旧版本的案件 ${marker}`, category: 'other', primary_town: 'dayan',
    involved_towns: [], parties: [{ name: '张某', phone: '13611112222', role: 'other' }],
    description: `旧版本描述 ${marker}`, severity: 'low', location: null, photos: [],
    reported_at: now,
  };
  tx.objectStore('outbox').add({
    mutation_id: crypto.randomUUID(), op: 'case.create', entity: 'case', record_id: recordId,
    base_version: null, client_time: now, created_at: now, data, status: 'pending',
  });
  tx.objectStore('records').put({
    entity: 'case', id: recordId, version: null, server: null, confirmed: [],
    data: { ...data, status: 'reported' }, pending: 1, rejected: 0, held: 0,
  });
  const photo = new Blob(['JPEGBYTES' + marker]);
  tx.objectStore('drafts').put({
    key: 'case.new', form: 'case.new', record_id: null, href: '#/new-case',
    subject: `旧草稿 ${marker}`, created_at: now, updated_at: now,
    state: { title: `旧草稿 ${marker}`, photos: [{ sha256: 'ab', blob: photo, size: 17 }] },
  });
  tx.objectStore('blobs').put({
    sha256: 'cd', blob: new Blob(['PHOTO' + marker], { type: 'image/jpeg' }),
    type: 'image/jpeg', size: 13, state: 'remote',
  });
  await new Promise((resolve) => { tx.oncomplete = resolve; });
  db.close();
}"""

READ_PHOTO = """async (hash) => {
  const { getBlob } = await import('/js/blobs.js');
  return (await getBlob(hash)).blob.text();
}"""


def raw_indexeddb(page: Page) -> dict:
    return page.evaluate(RAW_INDEXEDDB)


def revoke(pwa_server, page: Page) -> None:
    """The supervisor revokes the phone (the command line's `fengling device revoke`)."""
    device_id = page.evaluate(
        """async () => new Promise((resolve) => {
          const request = indexedDB.open('fengling');
          request.onsuccess = () => {
            const get = request.result.transaction('meta').objectStore('meta').get('device_id');
            get.onsuccess = () => { resolve(get.result.value); request.result.close(); };
          };
        })"""
    )
    env = {**os.environ, "FENGLING_DATA_DIR": str(pwa_server.data_dir)}
    env.pop("FENGLING_DATABASE_URL", None)
    subprocess.run([str(FENGLING), "device", "revoke", device_id], env=env, check=True)


def capture_case(page: Page, title: str, description: str, phone: str) -> None:
    page.goto("/#/new-case")
    page.get_by_label("标题", exact=True).fill(title)
    page.get_by_label("类别").select_option("land")
    page.get_by_label("姓名").first.fill("李某")
    page.get_by_label("电话").first.fill(phone)
    page.get_by_label("情况描述").fill(description)
    page.get_by_label("严重程度").select_option("high")
    page.get_by_label("拍照或选择照片").set_input_files([photo_file("a.png", (200, 30, 30))])
    expect(page.get_by_text("已添加 1 张照片")).to_be_visible()
    page.get_by_role("button", name="保存（离线也可）").click()
    expect(page.locator("#case-list")).to_contain_text(title)


def type_draft(page: Page, text: str) -> None:
    page.goto("/#/new-case")
    page.get_by_label("标题", exact=True).fill(text)
    page.get_by_label("情况描述").fill(text)
    page.goto("/#/home")  # leaving the form writes its draft
    expect(page.locator("#home-drafts")).to_contain_text(text, timeout=WAIT_MS)


def enter_pin(page: Page, pin: str) -> None:
    page.get_by_label("PIN 码").fill(pin)
    page.get_by_role("button", name="解锁").click()


def test_records_drafts_outbox_and_photos_are_encrypted_at_rest_and_the_pin_opens_them(
    browser_context: BrowserContext, pwa_server
) -> None:
    """A thief reading the phone's IndexedDB finds no case text, no phone number, no photo."""
    page = browser_context.new_page()
    sign_in(page, "dayan_worker")  # the first sign-in sets the PIN
    marker = uuid.uuid4().hex[:8]
    description = f"村口古樟树被砍伐痕迹明显 {marker}"
    party_phone = f"139{uuid.uuid4().int % 10**8:08d}"
    draft_text = f"未写完的草稿 {marker}"
    browser_context.set_offline(True)
    capture_case(page, f"古树案 {marker}", description, party_phone)
    type_draft(page, draft_text)
    expect_pending(page, 2)  # the case and its photo, in the outbox

    dump = raw_indexeddb(page)
    text = json.dumps(dump, ensure_ascii=False)
    for secret in (description, party_phone, draft_text, marker, "李某"):
        assert secret not in text
    assert dump["outbox"] and all("sealed" in row and "data" not in row for row in dump["outbox"])
    assert dump["drafts"] and all(set(row) == {"key", "sealed"} for row in dump["drafts"])
    assert dump["blobs"] and all("blob" not in row for row in dump["blobs"])
    auth = next(row for row in dump["meta"] if row["key"] == "auth")
    assert "value" not in auth and "token" not in text  # the bearer token is sealed too
    cases = [row for row in dump["records"] if row["entity"] == "case"]
    assert cases and all(set(row["data"]) <= {"case_id", "reported_at"} for row in cases)

    # The app starts locked: nothing shows until the PIN, which works offline.
    page.reload()
    expect(page.locator("#lock-form")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#tabs")).to_be_hidden()
    for hidden in ("/#/cases", "/#/outbox", "/#/settings", "/#/login"):
        page.goto(hidden)
        expect(page.locator("#lock-form")).to_be_visible()
        expect(page.locator("#view")).not_to_contain_text(marker)
    enter_pin(page, "000000")
    expect(page.locator("#lock-message")).to_contain_text("PIN 码不对。还可以再试 9 次。")
    unlock(page)
    page.goto("/#/cases")
    expect(page.locator("#case-list")).to_contain_text(f"古树案 {marker}")
    page.goto("/#/home")
    expect(page.locator("#home-drafts")).to_contain_text(draft_text)

    # Back online, unlocked: the case and its photo reach the server as typed.
    wait_synced(page, after=go_online(page))
    assert pwa_server.db.value(
        "SELECT description FROM cases WHERE title = ?", f"古树案 {marker}"
    ) == (description)


def test_offline_the_pin_unlocks_after_locking_instead_of_signing_out(
    browser_context: BrowserContext, pwa_server
) -> None:
    """Offline with unsent work, signing out becomes locking; the PIN opens it offline, after a
    reload too, and the worker is never locked out of the unsent case."""
    page = browser_context.new_page()
    sign_in(page, "shiliang_worker")
    browser_context.set_offline(True)
    title = f"溪流养殖废水 {uuid.uuid4().hex[:6]}"
    capture_case(page, title, "养殖废水直排溪流", "13800000000")
    page.goto("/#/settings")
    expect(page.locator("#logout")).to_have_count(0)
    page.get_by_role("button", name="锁定应用").click()
    expect(page.locator("#lock-form")).to_be_visible()
    expect(page.locator("#lock-unsent")).to_contain_text("2 项未同步内容")
    expect_pending(page, 2)  # the status bar still counts them (from clear index fields)
    page.reload()
    unlock(page)
    page.goto("/#/cases")
    expect(page.locator("#case-list")).to_contain_text(title)
    wait_synced(page, after=go_online(page))
    assert pwa_server.db.value("SELECT count(*) FROM cases WHERE title = ?", title) == 1


def test_ten_wrong_pins_with_unsent_work_keep_it_locked_until_the_password_recovers_it(
    browser_context: BrowserContext, pwa_server
) -> None:
    page = browser_context.new_page()
    sign_in(page, "dayan_worker")
    browser_context.set_offline(True)
    title = f"忘记 PIN 的案件 {uuid.uuid4().hex[:6]}"
    capture_case(page, title, "路灯损坏", "13900000000")
    page.reload()
    for left in range(9, 0, -1):
        enter_pin(page, "999999")
        expect(page.locator("#lock-message")).to_contain_text(f"还可以再试 {left} 次")
    enter_pin(page, "999999")
    blocked = page.locator("#lock-blocked")
    expect(blocked).to_contain_text("PIN 码错误次数过多", timeout=WAIT_MS)
    expect(page.get_by_label("PIN 码")).to_be_disabled()
    page.reload()  # a restart does not give the PIN its tries back
    expect(blocked).to_be_visible(timeout=WAIT_MS)
    assert any(row["status"] == "pending" for row in raw_indexeddb(page)["outbox"])

    # "用密码找回": online, the password brings back the key, then a new PIN is set.
    go_online(page)
    page.locator("#recover-form").get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="用密码找回").click()
    expect(page.locator("#recover-message")).to_contain_text("用户名或密码错误", timeout=WAIT_MS)
    page.locator("#recover-form").get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="用密码找回").click()
    expect(page.locator("#pin-form")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#cancel-pin")).to_have_count(0)  # a new PIN, not back to the forgotten one
    # The password opened it: the wrong-PIN count starts again (a reload here is not blocked).
    page.reload()
    expect(page.locator("#lock-form")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#lock-blocked")).to_have_count(0)
    expect(page.get_by_label("PIN 码")).to_be_enabled()
    page.locator("#recover-form").get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="用密码找回").click()
    set_pin(page, "13572468")
    page.goto("/#/cases")
    expect(page.locator("#case-list")).to_contain_text(title)
    wait_synced(page)
    page.reload()
    unlock(page, "13572468")
    expect(page.locator("#case-list")).to_contain_text(title)  # back where the worker was


def test_ten_wrong_pins_with_nothing_unsent_wipe_the_phone(
    browser_context: BrowserContext, pwa_server
) -> None:
    page = browser_context.new_page()
    sign_in(page, "shiliang_worker")
    page.reload()
    for left in range(9, 0, -1):
        enter_pin(page, "111111")
        expect(page.locator("#lock-message")).to_contain_text(f"还可以再试 {left} 次")
    enter_pin(page, "111111")
    expect(page.locator("#wiped")).to_contain_text(
        "PIN 码错误次数过多，本机数据已清除", timeout=WAIT_MS
    )
    dump = raw_indexeddb(page)
    assert dump["records"] == [] and dump["outbox"] == []
    assert {row["key"] for row in dump["meta"]} <= {"device_id", "lang", "sw_version"}


def test_a_revoked_phone_with_nothing_unsent_wipes_itself(
    browser_context: BrowserContext, pwa_server
) -> None:
    page = browser_context.new_page()
    sign_in(page, "dayan_worker")
    revoke(pwa_server, page)
    page.get_by_role("button", name="立即同步").click()
    expect(page.locator("#wiped")).to_contain_text(
        "此手机已被停用，本机数据已清除", timeout=WAIT_MS
    )
    dump = raw_indexeddb(page)
    assert dump["records"] == [] and dump["outbox"] == []
    assert "vault" not in {row["key"] for row in dump["meta"]}


def test_a_revoked_phone_with_unsent_work_keeps_it_encrypted_and_offers_export(
    browser_context: BrowserContext, pwa_server
) -> None:
    page = browser_context.new_page()
    sign_in(page, "dayan_worker")
    browser_context.set_offline(True)
    title = f"停用前未发送 {uuid.uuid4().hex[:6]}"
    capture_case(page, title, "桥栏杆松动", "13700000000")
    revoke(pwa_server, page)
    go_online(page)
    banner = page.locator("[data-banner=auth_problem]")
    expect(banner).to_contain_text("停用", timeout=WAIT_MS)
    expect_pending(page, 2)
    with page.expect_download() as download:
        banner.get_by_role("button", name="导出未同步内容").click()
    assert title in json.loads(download.value.path().read_text(encoding="utf-8"))["content"]
    page.reload()  # still there, still sealed, still the PIN's
    unlock(page)
    page.goto("/#/cases")
    expect(page.locator("#case-list")).to_contain_text(title)
    assert title not in json.dumps(raw_indexeddb(page), ensure_ascii=False)


def test_a_phone_updated_with_plain_data_encrypts_it_when_the_pin_is_set(
    browser_context: BrowserContext, pwa_server
) -> None:
    """The version before the PIN kept everything in clear: setting the PIN seals it in place,
    and nothing is lost (an unsent intent, a draft, a photo)."""
    page = browser_context.new_page()
    page.goto("/")
    page.get_by_label("用户名").fill("dayan_worker")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.locator("#pin-form")).to_be_visible(timeout=WAIT_MS)
    marker = uuid.uuid4().hex[:8]
    record_id = str(uuid.uuid4())
    # What the previous version left on the phone, written as it wrote it (no vault yet).
    page.evaluate(OLD_VERSION_DATA, {"marker": marker, "recordId": record_id})
    assert marker in json.dumps(raw_indexeddb(page), ensure_ascii=False)
    before = page_clock(page)
    set_pin(page)
    assert marker not in json.dumps(raw_indexeddb(page), ensure_ascii=False)
    wait_synced(page, after=before)
    assert pwa_server.db.value("SELECT description FROM cases WHERE id = ?", record_id) == (
        f"旧版本描述 {marker}"
    )
    page.goto("/#/home")
    expect(page.locator("#home-drafts")).to_contain_text(f"旧草稿 {marker}")
    assert page.evaluate(READ_PHOTO, "cd") == f"PHOTO{marker}"


def test_the_app_locks_after_the_idle_time_and_the_half_typed_form_comes_back(
    browser_context: BrowserContext,
) -> None:
    page = browser_context.new_page()
    sign_in(page, "xidian_worker")
    page.goto("/#/settings")
    page.get_by_label("闲置多久后自动锁定").select_option("1")
    title = f"闲置锁定前写了一半 {uuid.uuid4().hex[:6]}"
    page.goto("/#/new-case")
    page.get_by_label("标题", exact=True).fill(title)
    page.clock.install()
    page.clock.fast_forward("00:50")
    page.wait_for_timeout(11_000)  # the idle check runs every 10 s
    expect(page.locator("#lock-form")).to_have_count(0)  # 50 s: not yet
    page.clock.fast_forward("00:20")
    expect(page.locator("#lock-form")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#view")).not_to_contain_text(title)
    unlock(page)
    expect(page.get_by_label("标题", exact=True)).to_have_value(title, timeout=WAIT_MS)


# The server stops knowing this phone's token (an expired or refused session).
FORGET_TOKEN = """async () => {
  const { getMeta, setMeta } = await import('/js/meta.js');
  await setMeta('auth', { ...(await getMeta('auth')), token: 'stale' });
}"""


def test_after_a_refused_session_the_pin_still_opens_the_unsent_work_offline(
    browser_context: BrowserContext, pwa_server
) -> None:
    page = browser_context.new_page()
    sign_in(page, "xiaojiang_worker")
    browser_context.set_offline(True)
    title = f"会话失效后仍可查看 {uuid.uuid4().hex[:6]}"
    capture_case(page, title, "渠道堵塞", "13500000000")
    page.evaluate(FORGET_TOKEN)
    go_online(page)
    expect(page.locator("[data-banner=auth_problem]")).to_be_visible(timeout=WAIT_MS)
    browser_context.set_offline(True)
    page.reload()
    unlock(page)
    page.goto("/#/cases")
    expect(page.locator("#case-list")).to_contain_text(title)
    expect_pending(page, 2)


def test_the_pin_can_be_changed_in_settings_and_the_old_one_stops_working(
    browser_context: BrowserContext,
) -> None:
    page = browser_context.new_page()
    sign_in(page, "xiaojiang_worker")
    page.goto("/#/settings")
    page.get_by_role("button", name="修改 PIN 码").click()
    set_pin(page, "97531024")
    page.goto("/#/settings")
    page.get_by_role("button", name="立即锁定").click()
    enter_pin(page, PIN)
    expect(page.locator("#lock-message")).to_contain_text("PIN 码不对")
    unlock(page, "97531024")
    expect(page.locator("#security")).to_be_visible()


def test_before_the_pin_is_set_nothing_of_the_person_is_stored(
    browser_context: BrowserContext, pwa_server
) -> None:
    """Signed in, the PIN screen waiting: a thief taking the phone now finds no token and no
    case on it, however long the screen waits and whatever tries to sync meanwhile."""
    page = browser_context.new_page()
    page.goto("/")
    page.get_by_label("用户名").fill("dayan_worker")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.locator("#pin-form")).to_be_visible(timeout=WAIT_MS)
    page.evaluate("window.dispatchEvent(new Event('online'))")  # a sync trigger
    page.wait_for_timeout(3000)
    dump = raw_indexeddb(page)
    assert dump["records"] == [] and dump["outbox"] == [] and dump["blobs"] == []
    assert {row["key"] for row in dump["meta"]} <= {"device_id", "lang", "sw_version"}
    assert "token" not in json.dumps(dump, ensure_ascii=False)

    before = page_clock(page)
    set_pin(page)
    wait_synced(page, after=before)
    dump = raw_indexeddb(page)
    assert dump["records"] and all("sealed" in row for row in dump["records"])
    auth = next(row for row in dump["meta"] if row["key"] == "auth")
    assert "sealed" in auth and "value" not in auth
    page.goto("/#/cases")
    expect(page.locator("#case-list li.item").first).to_be_visible(timeout=WAIT_MS)


def test_two_tabs_share_the_ten_tries_and_a_new_pin_locks_the_other_tab(
    browser_context: BrowserContext, pwa_server
) -> None:
    """Two tabs of the app are one phone: wrong PINs count once for both, and a PIN changed in
    one tab is the PIN of the other too (the old one opens nothing, not even in the old tab)."""
    first = browser_context.new_page()
    sign_in(first, "shiliang_worker")
    second = browser_context.new_page()
    second.goto("/")
    expect(second.locator("#lock-form")).to_be_visible(timeout=WAIT_MS)
    first.goto("/#/settings")
    first.get_by_role("button", name="立即锁定").click()
    expect(first.locator("#lock-form")).to_be_visible(timeout=WAIT_MS)
    for left in (9, 8, 7):
        enter_pin(first, "000000")
        expect(first.locator("#lock-message")).to_contain_text(f"还可以再试 {left} 次")
    enter_pin(second, "000000")
    expect(second.locator("#lock-message")).to_contain_text("还可以再试 6 次")
    unlock(first)
    unlock(second)

    first.goto("/#/settings")
    first.get_by_role("button", name="修改 PIN 码").click()
    set_pin(first, "97531024")
    expect(second.locator("#lock-form")).to_be_visible(timeout=WAIT_MS)
    enter_pin(second, PIN)
    expect(second.locator("#lock-message")).to_contain_text("PIN 码不对")
    unlock(second, "97531024")
    first.reload()
    enter_pin(first, PIN)
    expect(first.locator("#lock-message")).to_contain_text("PIN 码不对")
    unlock(first, "97531024")


# A photo the server will refuse for good: JPEG's first bytes, then nothing a decoder can read
# (as a damaged camera file), stored through the app's own modules like a captured photo.
BROKEN_PHOTO = """async () => {
  const { sha256 } = await import('/js/blobs.js');
  const { sealBlob } = await import('/js/vault.js');
  const { transact } = await import('/js/db.js');
  const bytes = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8]);
  const blob = new Blob([bytes], { type: 'image/jpeg' });
  const row = await sealBlob({ sha256: await sha256(blob), blob, type: blob.type, size: blob.size,
    state: 'pending', created_at: new Date().toISOString() });
  await transact(['blobs'], 'readwrite', (tx) => { tx.objectStore('blobs').put(row); });
}"""


def test_a_photo_the_server_refuses_is_shown_in_words_and_never_wiped(
    browser_context: BrowserContext, pwa_server
) -> None:
    page = browser_context.new_page()
    sign_in(page, "xidian_worker")
    page.evaluate(BROKEN_PHOTO)
    page.get_by_role("button", name="立即同步").click()
    page.goto("/#/outbox")
    refused = page.locator("#outbox-photos-failed")
    expect(refused).to_contain_text("1 张照片服务器未收下", timeout=WAIT_MS)
    expect(refused).to_contain_text("照片无法完整读取")
    expect(refused).not_to_contain_text("photo_unreadable")
    # Ten wrong PINs wipe a phone with nothing unsent: this photo counts as unsent.
    page.reload()
    for left in range(9, 0, -1):
        enter_pin(page, "111111")
        expect(page.locator("#lock-message")).to_contain_text(f"还可以再试 {left} 次")
    enter_pin(page, "111111")
    expect(page.locator("#lock-blocked")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#wiped")).to_have_count(0)
    assert [row["state"] for row in raw_indexeddb(page)["blobs"]] == ["failed"]


# A phone signed in by the version before the PIN: its device id and sign-in in clear (the
# token a real login gave it), no vault. The update then asks for a PIN.
OLD_VERSION_SIGN_IN = """async ({ deviceId, auth }) => {
  const db = await new Promise((resolve) => {
    const r = indexedDB.open('fengling');
    r.onsuccess = () => resolve(r.result);
  });
  const tx = db.transaction(['meta'], 'readwrite');
  tx.objectStore('meta').put({ key: 'device_id', value: deviceId });
  tx.objectStore('meta').put({ key: 'auth', value: auth });
  await new Promise((resolve) => { tx.oncomplete = resolve; });
  db.close();
}"""


def test_a_phone_updated_without_escrow_gains_it_online_and_a_forgotten_pin_is_recovered(
    browser_context: BrowserContext, pwa_server
) -> None:
    """Updated from the version before the PIN, the phone had no server-wrapped copy of its
    data key: Settings says so in words until, unlocked and online, the phone adds it; then
    the password recovers a forgotten PIN with the unsent work intact."""
    page = browser_context.new_page()
    page.goto("/")
    expect(page.get_by_label("用户名")).to_be_visible(timeout=WAIT_MS)
    device_id = str(uuid.uuid4())
    answer = page.request.post(
        "/api/v1/auth/login",
        data={
            "username": "dayan_worker",
            "password": PASSWORD,
            "device": {"id": device_id, "name": "old", "platform": "pwa", "app_version": "1.4.1"},
        },
    ).json()
    auth = {"token": answer["token"], "user": answer["user"], "device_id": answer["device_id"]}
    page.evaluate(OLD_VERSION_SIGN_IN, {"deviceId": answer["device_id"], "auth": auth})
    expect(page.locator("body")).to_have_attribute("data-offline-ready", "yes", timeout=WAIT_MS)
    browser_context.set_offline(True)
    page.reload()
    set_pin(page)
    page.goto("/#/settings")
    expect(page.locator("#no-escrow")).to_contain_text("尚未用密码备份", timeout=WAIT_MS)

    page.reload()
    unlock(page)
    wait_synced(page, after=go_online(page))
    page.goto("/#/settings")
    expect(page.locator("#security")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#no-escrow")).to_have_count(0, timeout=WAIT_MS)

    # The PIN is forgotten: offline work first, then the password brings the data back.
    browser_context.set_offline(True)
    later = f"忘记 PIN 之前的案件 {uuid.uuid4().hex[:6]}"
    capture_case(page, later, "路面塌陷", "13300000000")
    page.reload()
    go_online(page)
    page.locator("#recover-form").get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="用密码找回").click()
    set_pin(page, "86420135")
    page.goto("/#/cases")
    expect(page.locator("#case-list")).to_contain_text(later)
    wait_synced(page)
    assert pwa_server.db.value("SELECT count(*) FROM cases WHERE title = ?", later) == 1


# Someone who can write the phone's IndexedDB moves one case's sealed payload onto another.
SWAP_SEALED_AND_READ = """async () => {
  const { transact, req } = await import('/js/db.js');
  const { get } = await import('/js/records.js');
  const [a, b] = await transact(['records'], 'readwrite', async (tx) => {
    const store = tx.objectStore('records');
    const [first, second] = await req(store.index('entity').getAll('case', 2));
    store.put({ ...first, sealed: second.sealed });
    return [first.id, second.id];
  });
  return { asked: a, other: b, got: (await get('case', a)).id };
}"""


def test_a_sealed_payload_moved_to_another_row_never_changes_the_rows_id(
    browser_context: BrowserContext, pwa_server
) -> None:
    page = browser_context.new_page()
    sign_in(page, "dayan_worker")
    read = page.evaluate(SWAP_SEALED_AND_READ)
    assert read["asked"] != read["other"] and read["got"] == read["asked"]


def test_ten_wrong_pins_in_one_tab_never_wipe_work_saved_meanwhile_in_another(
    browser_context: BrowserContext, pwa_server
) -> None:
    """The lock screen counted nothing unsent when it was drawn; a case saved since in another
    tab is counted again before any wipe, and kept."""
    locked = browser_context.new_page()
    sign_in(locked, "xiaojiang_worker")
    working = browser_context.new_page()
    working.goto("/")
    unlock(working)
    locked.goto("/#/settings")
    locked.get_by_role("button", name="立即锁定").click()
    expect(locked.locator("#lock-form")).to_be_visible(timeout=WAIT_MS)
    expect(locked.locator("#lock-unsent")).to_have_count(0)
    browser_context.set_offline(True)
    title = f"另一个标签页里保存的案件 {uuid.uuid4().hex[:6]}"
    capture_case(working, title, "井盖缺失", "13200000000")
    for left in range(9, 0, -1):
        enter_pin(locked, "111111")
        expect(locked.locator("#lock-message")).to_contain_text(f"还可以再试 {left} 次")
    enter_pin(locked, "111111")
    expect(locked.locator("#lock-blocked")).to_be_visible(timeout=WAIT_MS)
    expect(locked.locator("#wiped")).to_have_count(0)
    assert raw_indexeddb(locked)["outbox"]


# A tab opened before the PIN was set elsewhere tries to write what it holds.
WRITE_FROM_A_STALE_TAB = """async () => {
  const { setMeta } = await import('/js/meta.js');
  try {
    await setMeta('auth', { token: 'written-by-a-stale-tab' });
    return 'written';
  } catch (error) {
    return error.code;
  }
}"""


def test_a_tab_opened_before_the_pin_writes_nothing_in_clear_after_it(
    browser_context: BrowserContext, pwa_server
) -> None:
    first = browser_context.new_page()
    first.goto("/")
    first.get_by_label("用户名").fill("xidian_worker")
    first.get_by_label("密码").fill(PASSWORD)
    first.get_by_role("button", name="登录", exact=True).click()
    expect(first.locator("#pin-form")).to_be_visible(timeout=WAIT_MS)
    stale = browser_context.new_page()
    stale.goto("/")
    expect(stale.locator("#view form")).to_be_visible(timeout=WAIT_MS)  # it read "no vault"
    set_pin(first)
    assert stale.evaluate(WRITE_FROM_A_STALE_TAB) == "locked"
    assert "written-by-a-stale-tab" not in json.dumps(raw_indexeddb(stale), ensure_ascii=False)
