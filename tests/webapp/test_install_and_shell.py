"""The app is installable, its shell is served with the right headers, and it is bilingual."""

from __future__ import annotations

import json
import re
import struct
import uuid

import requests
from playwright.sync_api import BrowserContext, expect

from testkit.chromium import context_options
from tests.webapp.helpers import WAIT_MS, go_online, shoot, sign_in, unlock, wait_synced


def png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", content[16:24])


def test_installable_with_no_errors_and_manifest_icons_load(persistent_phone, pwa_server) -> None:
    phone = persistent_phone()
    page = phone.pages[0]
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    page.goto("/")
    expect(page.locator("body")).to_have_attribute("data-offline-ready", "yes", timeout=WAIT_MS)
    cdp = phone.new_cdp_session(page)
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    manifest_info = cdp.send("Page.getAppManifest")
    assert manifest_info["errors"] == []
    assert violations == []

    manifest = requests.get(pwa_server.base_url + "/manifest.webmanifest", timeout=10)
    assert manifest.headers["Content-Type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["lang"] == "zh-CN" and body["display"] == "standalone"
    assert body["short_name"] == "锋领" and body["theme_color"]
    purposes = set()
    for icon in body["icons"]:
        response = requests.get(pwa_server.base_url + icon["src"], timeout=10)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/png"
        width, height = png_size(response.content)
        assert f"{width}x{height}" == icon["sizes"]
        assert len(response.content) < 20_000, "icons stay small"
        purposes.add(icon["purpose"])
    assert {"any", "maskable"} <= purposes


def test_shell_headers_cache_and_content_security_policy(pwa_server) -> None:
    base = pwa_server.base_url
    worker = requests.get(base + "/service-worker.js", timeout=10)
    assert "no-cache" in worker.headers["Cache-Control"]
    assert worker.headers["Content-Type"].startswith("text/javascript")
    index = requests.get(base + "/", timeout=10)
    csp = index.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert index.headers["Cache-Control"] == "no-cache"
    assert '<script type="module" src="/js/main.js">' in index.text
    assert "<script>" not in index.text, "no inline scripts"
    assert requests.get(base + "/js/sync.js", timeout=10).headers["Cache-Control"] == "no-cache"
    assert requests.get(base + "/icons/generate.py", timeout=10).status_code == 404
    assert requests.get(base + "/js/../../server/pwa.py", timeout=10).status_code == 404
    api_404 = requests.get(base + "/api/v1/nowhere", timeout=10)
    assert api_404.headers["Content-Type"].startswith("application/json")


def test_switch_to_english_and_back(browser_context: BrowserContext) -> None:
    page = browser_context.new_page()
    sign_in(page, "xiaojiang_worker")
    page.goto("/#/settings")
    expect(page.locator("#storage")).to_contain_text("持久存储")
    shoot(page, "settings")
    page.get_by_label("语言").select_option("en")
    expect(page.locator("#tabs")).to_contain_text("Cases")
    expect(page.locator("#sync-now")).to_have_text("Sync now")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.reload()
    expect(page.locator("#lock-form")).to_contain_text("App locked", timeout=WAIT_MS)
    unlock(page)
    expect(page.locator("#tabs")).to_contain_text("Settings", timeout=WAIT_MS)
    page.get_by_label("Language").select_option("zh-CN")
    expect(page.locator("#tabs")).to_contain_text("案件")


def test_offline_with_unsent_work_signing_out_is_replaced_by_locking(
    browser_context: BrowserContext, pwa_server
) -> None:
    """Offline, signing out would delete the unsent case: the app offers to lock instead. The
    lock hides everything and survives a reload; the PIN opens it again, offline too."""
    page = browser_context.new_page()
    sign_in(page, "shiliang_worker")
    browser_context.set_offline(True)
    title = f"溪流养殖废水 {uuid.uuid4().hex[:6]}"
    page.goto("/#/new-case")
    page.get_by_label("标题", exact=True).fill(title)
    page.get_by_label("类别").select_option("other")
    page.get_by_label("严重程度").select_option("low")
    page.get_by_role("button", name="保存（离线也可）").click()
    expect(page.locator("#case-list")).to_contain_text(title)

    page.goto("/#/settings")
    expect(page.locator("#logout")).to_have_count(0)
    lock_instead = page.locator("#lock-instead")
    expect(lock_instead).to_contain_text("现在离线：退出登录会删除本机 1 项未同步内容")
    with page.expect_download() as download:
        page.get_by_role("button", name="导出未同步内容").click()
    exported = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert exported["format"] == "fengling-unsent-work" and exported["version"] == 1
    assert title in exported["content"] and "case.create" in exported["content"]
    page.get_by_role("button", name="锁定应用").click()

    lock = page.locator("#lock-form")
    expect(lock).to_contain_text("应用已锁定")
    expect(page.locator("#lock-unsent")).to_contain_text("1 项未同步内容")
    expect(page.locator("#tabs")).to_be_hidden()
    shoot(page, "lock")
    for hidden_screen in ("/#/cases", f"/#/case/{uuid.uuid4()}", "/#/login", "/#/settings"):
        page.goto(hidden_screen)
        expect(lock).to_be_visible()
        expect(page.locator("#view")).not_to_contain_text(title)
    page.reload()
    expect(lock).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#view")).not_to_contain_text(title)
    # The PIN opens it offline: the worker is never locked out of unsent work.
    unlock(page)
    page.goto("/#/cases")
    expect(page.locator("#case-list")).to_contain_text(title)
    with page.expect_download() as again:
        page.goto("/#/settings")
        page.get_by_role("button", name="导出未同步内容").click()
    assert title in json.loads(again.value.path().read_text(encoding="utf-8"))["content"]

    # Online and unlocked: the work goes home.
    wait_synced(page, after=go_online(page))
    assert pwa_server.db.value("SELECT count(*) FROM cases WHERE title = ?", title) == 1
    # Online with nothing unsent, signing out is offered again.
    page.goto("/#/settings")
    expect(page.locator("#logout")).to_be_visible()
    expect(page.locator("#lock")).to_have_count(0)


ASK_WORKER_VERSION = """() => new Promise((resolve) => {
  const channel = new MessageChannel();
  channel.port1.onmessage = (event) => resolve(event.data.version);
  navigator.serviceWorker.controller.postMessage({type: 'version'}, [channel.port2]);
})"""


def test_new_version_is_offered_not_swapped_under_the_user(pwa_browser, staged_pwa_server) -> None:
    server, staged = staged_pwa_server
    context = pwa_browser.new_context(**context_options(server.base_url))
    try:
        page = context.new_page()
        sign_in(page, "dayan_worker")
        worker = staged / "service-worker.js"
        current = re.search(r"const VERSION = '([^']+)'", worker.read_text())[1]
        assert page.evaluate(ASK_WORKER_VERSION) == current

        # Deploy a new version: a new worker version and a visible change in the shell.
        worker.write_text(worker.read_text().replace(f"VERSION = '{current}'", "VERSION = 'next'"))
        catalogue = staged / "i18n" / "zh-CN.json"
        catalogue.write_text(catalogue.read_text().replace('"锋领"', '"锋领新版"'))

        page.reload()  # a navigation makes the browser look for a new worker
        unlock(page)
        banner = page.locator("[data-banner=update_ready]")
        expect(banner).to_contain_text("新版本可用。", timeout=WAIT_MS)
        page.reload()  # the old version keeps running until the person chooses
        unlock(page)
        expect(page.locator(".brand")).to_have_text("锋领")
        expect(banner).to_be_visible(timeout=WAIT_MS)
        shoot(page, "update-ready")

        banner.get_by_role("button", name="更新").click()
        expect(page.locator(".brand")).to_have_text("锋领新版", timeout=WAIT_MS)
        assert page.evaluate(ASK_WORKER_VERSION) == "next"
        unlock(page)  # the update reloads the page: it opens locked, as any start does
        expect(page.locator("#home-status")).to_be_visible()
    finally:
        context.close()
