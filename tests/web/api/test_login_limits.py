"""The login limit slows a guesser down without handing them the owner's account to lock:
it counts per username and address, a bound phone has its own count, and it answers with a
growing delay, never a lockout (docs/security.md, Login limits)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.factories import DeviceClient
from tests.web.console.conftest import ConsoleUser

STRANGER = "203.0.113.66"  # a stranger's address (documentation range)
ELSEWHERE = "198.51.100.20"  # the owner, somewhere else


def client_at(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def fail_for_real(clock, attempt: Callable[[], Any], times: int) -> None:
    """Fail `times` password checks, waiting out each delay (Retry-After) as a patient
    guesser would."""
    failures = 0
    while failures < times:
        response = attempt()
        if response.status_code == 429:
            clock.advance(seconds=int(response.headers["Retry-After"]))
            continue
        assert response.status_code == 401
        failures += 1


def test_a_strangers_twenty_failures_do_not_stop_the_owners_phone(clock, app, client):
    owner = DeviceClient(client, "dayan_supervisor")
    assert owner.login().status_code == 200  # the phone is now bound to its owner
    for address in (STRANGER, "127.0.0.1"):  # elsewhere, and behind the owner's own NAT
        stranger = client_at(app, address)
        fail_for_real(
            clock,
            lambda s=stranger: DeviceClient(s, "dayan_supervisor", password="guess-123").login(),
            20,
        )
        assert owner.login().status_code == 200


def test_a_device_bound_to_someone_else_buys_a_stranger_no_fresh_count(clock, app, client):
    colleague = DeviceClient(client, "dayan_worker")
    assert colleague.login().status_code == 200
    stranger = client_at(app, STRANGER)
    for _ in range(5):
        assert (
            DeviceClient(stranger, "dayan_supervisor", password="x-guess-1").login().status_code
            == 401
        )
    borrowed = DeviceClient(stranger, "dayan_supervisor", device_id=colleague.device_id)
    assert borrowed.login().status_code == 429


def test_a_strangers_failures_leave_the_owners_console_open_or_briefly_slowed(clock, app):
    def stranger_signs_in():
        stranger = ConsoleUser(app, "dayan_supervisor", password="guess-123")
        stranger.client.environ_base["REMOTE_ADDR"] = STRANGER
        return stranger.sign_in()

    fail_for_real(clock, stranger_signs_in, 20)

    elsewhere = ConsoleUser(app, "dayan_supervisor")
    elsewhere.client.environ_base["REMOTE_ADDR"] = ELSEWHERE
    assert elsewhere.sign_in().status_code == 302

    # At the stranger's own address the owner waits, but never longer than the window.
    same_place = ConsoleUser(app, "dayan_supervisor")
    same_place.client.environ_base["REMOTE_ADDR"] = STRANGER
    refused = same_place.sign_in()
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 0 < wait <= app.config["LOGIN_WINDOW_SECONDS"]
    clock.advance(seconds=wait)
    assert same_place.sign_in().status_code == 302


def test_after_the_limit_each_check_waits_twice_as_long_and_a_success_clears_it(clock, client):
    def attempt(password: str = "wrong-guess", language: str = "zh-CN"):
        phone = DeviceClient(client, "xidian_worker", language=language)
        if password != "right":
            phone.password = password
        return client.post(
            "/api/v1/auth/login",
            headers={"Accept-Language": language},
            json={
                "username": phone.username,
                "password": phone.password,
                "device": {"id": phone.device_id},
            },
        )

    assert [attempt().status_code for _ in range(5)] == [401] * 5

    refused = attempt("right")  # not even the right password is checked now
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.get_json()["error"] == {
        "code": "too_many_attempts",
        "message": "登录失败次数过多，请在 1 秒后再试。",
        "details": {"retry_after": 1},
    }
    clock.advance(seconds=1)
    assert attempt().status_code == 401  # checked, and wrong: the next wait doubles

    refused = attempt(language="en")
    assert refused.status_code == 429
    assert refused.get_json()["error"]["message"] == (
        "Too many failed logins; try again in 2 seconds."
    )
    clock.advance(seconds=1)
    assert attempt("right").get_json()["error"]["details"] == {"retry_after": 1}
    clock.advance(seconds=1)
    assert attempt("right").status_code == 200
    assert attempt().status_code == 401  # the owner got in: the count starts again


def test_the_wait_never_grows_past_the_window(clock, client):
    def wrong():
        return DeviceClient(client, "xidian_worker", password="wrong-guess").login()

    fail_for_real(clock, wrong, 15)  # the 15th failure would wait 2^10 s: more than the window
    refused = wrong().get_json()["error"]
    wait = refused["details"]["retry_after"]
    assert wait == 15 * 60
    assert refused["message"] == "登录失败次数过多，请在 15 分钟后再试。"
    clock.advance(timedelta(seconds=wait))
    assert wrong().status_code == 401


def test_behind_the_proxy_the_forwarded_address_is_the_callers(clock, make_app):
    app = make_app(TRUST_PROXY_HEADERS=True)
    client = app.test_client()

    def wrong(address: str):
        return client.post(
            "/api/v1/auth/login",
            headers={"X-Forwarded-For": address},
            json={
                "username": "xidian_worker",
                "password": "wrong-guess",
                "device": {"id": DeviceClient(client, "x").device_id},
            },
        )

    assert [wrong(STRANGER).status_code for _ in range(6)] == [401] * 5 + [429]
    assert wrong(ELSEWHERE).status_code == 401


def test_without_the_proxy_a_forged_forwarded_address_changes_nothing(clock, client):
    def wrong(address: str):
        return client.post(
            "/api/v1/auth/login",
            headers={"X-Forwarded-For": address},
            json={
                "username": "xidian_worker",
                "password": "wrong-guess",
                "device": {"id": DeviceClient(client, "x").device_id},
            },
        )

    assert [wrong(f"192.0.2.{n}").status_code for n in range(6)] == [401] * 5 + [429]
