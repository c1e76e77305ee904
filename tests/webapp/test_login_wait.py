"""A phone that has failed to sign in too often is told how long to wait, in words."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, expect

from testkit.chromium import PASSWORD, context_options
from tests.webapp.conftest import PwaServer, start_server


@pytest.fixture
def patient_server(tmp_path: Path) -> Iterator[PwaServer]:
    """A server whose first wait is a minute, so the phone meets it however slow the
    machine is (one second by default)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    yield from start_server(data_dir, {"FENGLING_LOGIN_FIRST_DELAY_SECONDS": "60"})


def test_after_too_many_wrong_passwords_the_phone_says_how_long_to_wait(
    pwa_browser: Browser, patient_server: PwaServer
):
    context = pwa_browser.new_context(**context_options(patient_server.base_url))
    page = context.new_page()
    page.goto("/")
    for _ in range(5):  # five wrong guesses from this address
        wrong = requests.post(
            f"{patient_server.base_url}/api/v1/auth/login",
            timeout=30,
            json={
                "username": "dayan_worker",
                "password": "wrong-guess",
                "device": {"id": str(uuid.uuid4())},
            },
        )
        assert wrong.status_code == 401
    page.get_by_label("用户名").fill("dayan_worker")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(re.compile(r"^登录失败次数过多，请在 \d+ 秒后再试。$"))
    expect(alert).not_to_contain_text("retry_after")
    context.close()
