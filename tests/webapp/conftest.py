"""Browser tests of the field PWA: a real server subprocess and real headless Chromium.

Fixture names are distinctive (pwa_server, pwa_browser, browser_context) so they never
collide with the server suite's fixtures in tests/conftest.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from testkit.chromium import CHROMIUM, CHROMIUM_FLAGS, DAYAN_SITE, context_options
from testkit.server import free_port
from tests.webapp.helpers import ServerDb

REPO = Path(__file__).resolve().parents[2]
FENGLING = Path(sys.executable).with_name("fengling")  # the venv running the tests
SERVER_START_TIMEOUT_S = 30


class PwaServer:
    def __init__(self, base_url: str, data_dir: Path):
        self.base_url = base_url
        self.data_dir = data_dir
        self.db = ServerDb(data_dir / "fengling.db")


def start_server(data_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[PwaServer]:
    """Migrate, seed and serve; yields once it answers, stops it afterwards."""
    env = {**os.environ, "FENGLING_DATA_DIR": str(data_dir), **(extra_env or {})}
    env.pop("FENGLING_DATABASE_URL", None)
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([str(FENGLING), *command], env=env, check=True, capture_output=True)
    port = free_port()
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [str(FENGLING), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base_url, process)
        yield PwaServer(base_url, data_dir)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


@pytest.fixture(scope="session")
def pwa_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PwaServer]:
    """`fengling serve` on a free 127.0.0.1 port with a fresh, migrated, seeded data dir."""
    yield from start_server(tmp_path_factory.mktemp("pwa-server"))


@pytest.fixture
def own_pwa_server(tmp_path: Path) -> Iterator[PwaServer]:
    """A server for one test alone, for data that would change what the other tests see."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    yield from start_server(data_dir)


@pytest.fixture
def staged_pwa_server(tmp_path: Path) -> Iterator[tuple[PwaServer, Path]]:
    """A server whose app files are a copy the test may change: a new version being deployed."""
    staged = tmp_path / "webapp"
    shutil.copytree(REPO / "webapp", staged)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for server in start_server(data_dir, {"FENGLING_PWA_DIR": str(staged)}):
        yield server, staged


def wait_until_serving(base_url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with requests.get(base_url + "/", timeout=1) as response:
                if response.status_code == 200:
                    return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not start in time")


@pytest.fixture(scope="session")
def pwa_playwright() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def pwa_browser(pwa_playwright: Playwright) -> Iterator[Browser]:
    browser = pwa_playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


@pytest.fixture
def browser_context(pwa_browser: Browser, pwa_server: PwaServer) -> Iterator[BrowserContext]:
    """One phone: a fresh profile at 360 px, located at the Dayan alliance hall."""
    context = pwa_browser.new_context(**context_options(pwa_server.base_url))
    yield context
    context.close()


@pytest.fixture
def second_context(pwa_browser: Browser, pwa_server: PwaServer) -> Iterator[BrowserContext]:
    """Another phone, for two-device stories."""
    context = pwa_browser.new_context(**context_options(pwa_server.base_url))
    yield context
    context.close()


@pytest.fixture
def desk(pwa_browser: Browser, pwa_server: PwaServer) -> Iterator[BrowserContext]:
    """A supervisor's desktop browser, for the console."""
    context = pwa_browser.new_context(
        base_url=pwa_server.base_url,
        viewport={"width": 1360, "height": 900},
        locale="zh-CN",
        accept_downloads=True,
    )
    yield context
    context.close()


@pytest.fixture
def persistent_phone(
    pwa_playwright: Playwright, pwa_server: PwaServer, tmp_path: Path
) -> Iterator[Callable[[], BrowserContext]]:
    """launch(**options) -> a persistent profile (options such as a viewport go to the
    context); call again after closing it for a cold start."""
    profile = tmp_path / "profile"
    opened: list[BrowserContext] = []

    def launch(**options: Any) -> BrowserContext:
        context = pwa_playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_FLAGS,
            **{**context_options(pwa_server.base_url), **options},
        )
        opened.append(context)
        return context

    yield launch
    for context in opened:
        try:
            context.close()
        except Exception:
            pass


@pytest.fixture(scope="session")
def site_position() -> dict:
    return DAYAN_SITE


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call" and report.failed:
        server = item.funcargs.get("pwa_server") or item.funcargs.get("own_pwa_server")
        log = server.data_dir / "server.log" if server else None
        if log and log.exists():
            tail = log.read_text(errors="replace").splitlines()[-40:]
            report.sections.append(("fengling server log (last 40 lines)", "\n".join(tail)))
    return report
