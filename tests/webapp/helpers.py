"""Helpers for the PWA browser tests: signing in, waiting for sync, the server's database.

Chromium's launch settings and the page options are testkit/chromium.py's (shared with
bench/pwa_bench.py)."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import struct
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import BrowserContext, Page, expect

from testkit.chromium import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WAIT_MS = 15_000
PIN = "246810"  # the PIN every test phone gets at its first sign-in


def sign_in(page: Page, username: str, screenshot: str | None = None) -> None:
    """Open the app online, sign in, and wait until it is ready offline and fully synced."""
    page.goto("/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    if screenshot:
        shoot(page, screenshot)
    before = page_clock(page)
    page.get_by_role("button", name="登录", exact=True).click()
    set_pin(page)
    expect(page.locator("#home-status")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("body")).to_have_attribute("data-offline-ready", "yes", timeout=WAIT_MS)
    wait_synced(page, after=before)


def set_pin(page: Page, pin: str = PIN) -> None:
    """The first sign-in on a phone asks for a PIN before anything else opens."""
    expect(page.locator("#pin-form")).to_be_visible(timeout=WAIT_MS)
    page.get_by_label("新 PIN 码").fill(pin)
    page.get_by_label("再输入一次").fill(pin)
    page.get_by_role("button", name="保存 PIN 码").click()
    expect(page.locator("#pin-form")).to_have_count(0, timeout=WAIT_MS)


def unlock(page: Page, pin: str = PIN) -> None:
    """A page opened (or reloaded) after sign-in starts locked: enter the PIN."""
    expect(page.locator("#lock-form")).to_be_visible(timeout=WAIT_MS)
    page.locator("#lock-form input[name=pin]").fill(pin)
    page.locator("#unlock").click()
    expect(page.locator("#lock-form")).to_have_count(0, timeout=WAIT_MS)


def open_offline_app(context: BrowserContext) -> Page:
    """A phone with no signal opens the installed app (cold start) and unlocks it."""
    page = context.pages[0] if context.pages else context.new_page()
    context.set_offline(True)
    page.goto("/")
    unlock(page)
    expect(page.locator("#home-status")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#net-badge")).to_have_text("离线")
    return page


def console_sign_in(page: Page, username: str) -> None:
    """Sign in to the supervisor console (in a desktop context, see the `desk` fixture)."""
    page.goto("/console/cases")
    expect(page.locator("h1")).to_have_text("登录管理台")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.locator("h1")).to_have_text("案件列表", timeout=WAIT_MS)


def page_clock(page: Page) -> str:
    """The page's own time, to ask later for a sync that started after this moment."""
    return str(page.evaluate("new Date().toISOString()"))


def wait_synced(page: Page, after: str | None = None) -> None:
    """Nothing pending, no sync running, and a sync succeeded (one started `after` if given).

    Pending and button state alone are true for a moment before a triggered sync has begun;
    the sync button's record of the last successful run (written by the page or the service
    worker) says that a run really happened.
    """
    expect_pending(page, 0)
    button = page.locator("#sync-now")
    ran = re.compile(r"\d")
    expect(button).to_have_attribute("data-last-success-started", ran, timeout=WAIT_MS)
    if after is not None:
        page.wait_for_function(
            """(after) => {
                const started = document.getElementById('sync-now')?.dataset.lastSuccessStarted;
                return Boolean(started) && Date.parse(started) >= Date.parse(after);
            }""",
            arg=after,
            timeout=WAIT_MS,
        )
    expect(button).to_be_enabled(timeout=WAIT_MS)
    expect(button).to_have_text("立即同步", timeout=WAIT_MS)
    expect_pending(page, 0)


def go_online(page: Page) -> str:
    """Lift offline emulation; the app's own `online` handler then starts a sync.

    Returns the page's time just before, for `wait_synced(page, after=...)`.

    Workaround for Chromium's offline emulation (with a service worker in control): the first
    request issued about a second after going back online can stall until the browser closes.
    One request to the network right away avoids it (the app's precached files would not reach
    the network); it changes nothing on the server and does not touch the app's state.
    """
    before = page_clock(page)
    page.context.set_offline(False)
    page.evaluate("fetch('/api/v1/', {method: 'HEAD', cache: 'no-store'}).then((r) => r.status)")
    return before


def wait_until(
    page: Page, condition: Callable[[], Any], what: str, timeout_ms: int = WAIT_MS
) -> None:
    """Poll a Python-side condition (a route handler's record, say) within a bound."""
    for _ in range(timeout_ms // 100):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out waiting: {what}")


def pending_count(page: Page) -> int:
    return int(page.locator("#pending-badge").get_attribute("data-count") or "0")


def expect_pending(page: Page, count: int) -> None:
    badge = page.locator("#pending-badge")
    expect(badge).to_have_attribute("data-count", str(count), timeout=WAIT_MS)


def sync_now(page: Page) -> str:
    """Tap "立即同步"; returns the page's time just before, for `wait_synced(page, after=...)`."""
    before = page_clock(page)
    page.locator("#sync-now").click()
    return before


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def png_bytes(colour: tuple[int, int, int], size: int = 64) -> bytes:
    """A small solid-colour PNG, a stand-in for a camera photo."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = b"".join(b"\x00" + bytes(colour) * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def photo_file(name: str, colour: tuple[int, int, int]) -> dict[str, Any]:
    return {"name": name, "mimeType": "image/png", "buffer": png_bytes(colour)}


class ServerDb:
    """Read-only look at the server's SQLite file: did it reach the server, and how often."""

    def __init__(self, path: Path):
        self.path = path

    def rows(self, sql: str, *params: Any) -> list[tuple]:
        with contextlib.closing(
            sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        ) as conn:
            return conn.execute(sql, params).fetchall()

    def value(self, sql: str, *params: Any) -> Any:
        rows = self.rows(sql, *params)
        return rows[0][0] if rows else None


class ApiDevice:
    """A second device speaking the protocol directly (the console's or another phone's role)."""

    def __init__(self, base_url: str, username: str):
        self.base = base_url + "/api/v1"
        self.device_id = str(uuid.uuid4())
        self.session = requests.Session()
        body = self.session.post(
            self.base + "/auth/login",
            json={
                "username": username,
                "password": PASSWORD,
                "device": {
                    "id": self.device_id,
                    "name": "test",
                    "platform": "test",
                    "app_version": "t",
                },
            },
            timeout=10,
        ).json()
        self.user = body["user"]
        self.session.headers.update(
            {"Authorization": f"Bearer {body['token']}", "X-Schema-Version": "1"}
        )

    def close(self) -> None:
        self.session.close()

    def push(self, *mutations: dict[str, Any]) -> list[dict[str, Any]]:
        response = self.session.post(
            self.base + "/sync/push",
            json={"mutations": [{"mutation_id": str(uuid.uuid4()), **m} for m in mutations]},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()["results"]

    def create_case(self, title: str, town: str = "dayan") -> str:
        record_id = str(uuid.uuid4())
        data = {"title": title, "category": "neighbours", "primary_town": town, "severity": "low"}
        [result] = self.push({"op": "case.create", "record_id": record_id, "data": data})
        assert result["status"] == "applied", result
        return record_id

    def move(self, record_id: str, frm: str, to: str) -> dict[str, Any]:
        op = {"op": "case.transition", "record_id": record_id, "data": {"from": frm, "to": to}}
        return self.push(op)[0]

    def pull_all(self) -> list[dict[str, Any]]:
        changes: list[dict[str, Any]] = []
        cursor = None
        for _ in range(100):
            params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            body = self.session.get(self.base + "/sync/pull", params=params, timeout=10).json()
            changes.extend(body["changes"])
            cursor = body["cursor"]
            if not body["has_more"]:
                break
        return changes


def idb_outbox(page: Page) -> list[dict[str, Any]]:
    """The app's outbox as stored in IndexedDB and the database's version, read through the
    app's storage layer: entries are sealed at rest (vault.js), so the page must be unlocked."""
    raw = page.evaluate(
        """async () => {
            const { allEntries } = await import('/js/outbox.js');
            const { openDb } = await import('/js/db.js');
            const db = await openDb();
            return JSON.stringify({ version: db.version, rows: await allEntries() });
        }"""
    )
    return json.loads(raw)
