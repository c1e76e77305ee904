"""Signing in and out of the console: who may enter, cookies, CSRF, language."""

from __future__ import annotations

from tests.web.console.conftest import ConsoleUser, soup


def test_a_supervisor_signs_in_sees_the_queue_and_signs_out(app, rows):
    from server.models import ConsoleSession

    supervisor = ConsoleUser(app, "dayan_supervisor")
    assert supervisor.get("/console/cases").headers["Location"].startswith("/console/login")
    response = supervisor.sign_in()
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    page = supervisor.page("/console/cases")
    assert "大堰镇管理员" in page.select_one(".who").text
    assert len(rows(ConsoleSession)) == 1

    out = supervisor.post("/console/logout")
    assert out.status_code == 302
    assert rows(ConsoleSession) == []
    assert supervisor.get("/console/cases").status_code == 302


def test_the_session_cookie_is_secure_over_https(app):
    user = ConsoleUser(app, "admin")
    page = user.client.get("/console/login", base_url="https://console.example")
    token = soup(page).select_one("input[name=csrf_token]")["value"]
    response = user.client.post(
        "/console/login",
        base_url="https://console.example",
        data={"csrf_token": token, "username": "admin", "password": "fengling-demo"},
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_workers_and_integration_accounts_cannot_enter(app):
    for username in ("dayan_worker", "integration"):
        response = ConsoleUser(app, username).sign_in()
        assert response.status_code == 401
        assert "不能使用管理台" in soup(response).select_one("[role=alert]").text


def test_a_wrong_password_is_refused_and_too_many_are_limited(clock, app):
    user = ConsoleUser(app, "dayan_supervisor", password="wrong-password")
    statuses = [user.sign_in().status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    refused = ConsoleUser(app, "dayan_supervisor").sign_in()
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert "请在 1 秒后再试" in soup(refused).select_one("[role=alert]").text
    clock.advance(seconds=1)
    assert ConsoleUser(app, "dayan_supervisor").sign_in().status_code == 302


def test_signing_in_without_the_form_token_is_refused(app):
    user = ConsoleUser(app, "admin")
    response = user.client.post(
        "/console/login", data={"username": "admin", "password": "fengling-demo"}
    )
    assert response.status_code == 400
    assert "表单已过期" in response.text


def test_a_form_from_another_site_is_refused_even_with_the_token(dayan_console, report):
    case_id = report()
    response = dayan_console.post(
        f"/console/cases/{case_id}/events",
        {"kind": "note", "body": "x"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 400


def test_a_deactivated_supervisor_is_signed_out_at_once(dayan_console, execute):
    execute("UPDATE users SET is_active = false WHERE username = 'dayan_supervisor'")
    assert dayan_console.get("/console/cases").status_code == 302


def test_the_console_speaks_english_when_asked(dayan_console):
    switch = dayan_console.get("/console/lang/en?next=/console/cases")
    assert switch.headers["Location"] == "/console/cases"
    page = dayan_console.page("/console/cases")
    assert page.select_one("h1").text == "Case queue"
    assert page.html["lang"] == "en"
    dayan_console.get("/console/lang/zh-CN")
    assert dayan_console.page("/console/cases").select_one("h1").text == "案件列表"


def test_after_sign_in_the_user_returns_only_within_the_console(app):
    user = ConsoleUser(app, "admin")
    page = user.client.get("/console/login")
    token = soup(page).select_one("input[name=csrf_token]")["value"]
    response = user.client.post(
        "/console/login",
        data={
            "csrf_token": token,
            "username": "admin",
            "password": "fengling-demo",
            "next": "https://evil.example/",
        },
    )
    assert response.headers["Location"] == "/console/cases"


def test_console_pages_carry_a_strict_content_security_policy(dayan_console):
    response = dayan_console.get("/console/cases")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_form_sent_after_the_session_ended_goes_to_sign_in_not_to_an_error(
    dayan_console, report, execute
):
    case_id = report()
    execute("UPDATE console_sessions SET expires_at = '2020-01-01 00:00:00+00:00'")
    response = dayan_console.post(
        f"/console/cases/{case_id}/events",
        {"kind": "note", "body": "写了一半的备注"},
        headers={"Referer": f"http://localhost/console/cases/{case_id}"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/console/login?next=/console/cases/{case_id}")
    page = soup(dayan_console.get(response.headers["Location"]))
    assert "登录已过期" in page.select_one("[role=alert]").text
    assert dayan_console.post("/console/logout", csrf=False).status_code == 302


def test_a_worker_trying_the_console_does_not_lock_their_phone(app, login):
    for _ in range(6):
        assert ConsoleUser(app, "dayan_worker").sign_in().status_code == 401
    assert login("dayan_worker").token is not None


def test_a_huge_rejection_number_is_not_found_not_a_crash(dayan_console):
    response = dayan_console.post("/console/rejections/99999999999999999999/handled")
    assert response.status_code == 404
