"""Sign in, sign out and the language switch."""

from __future__ import annotations

import secrets

from flask import Response, current_app, g, make_response, redirect, request, url_for

from server.accounts.console_sessions import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    cookie_secure,
    load_staff,
    safe_next,
    sign_in,
    sign_out,
)
from server.errors import TooManyAttempts
from server.i18n import LANGUAGES, wait_in_words
from server.schemas.auth import ConsoleLoginSchema
from server.web.console import bp, render_page
from server.web.console.forms import FormError, load
from server.web.console.i18n import LANG_COOKIE, current_language, t

LOGIN = ConsoleLoginSchema()


@bp.get("/")
def home() -> Response:
    return redirect(url_for("console.queue"))


@bp.get("/login")
def login_form() -> Response:
    if load_staff() is not None:
        return redirect(safe_next(request.args.get("next")))
    return login_page(t("login.expired") if request.args.get("expired") else "")


def login_page(error: str = "", status: int = 200) -> Response:
    """The form carries a fresh token that must match a cookie (CSRF before a session)."""
    g.login_csrf = secrets.token_urlsafe(32)
    body, status = render_page("login.html", status, error=error, next=request.args.get("next", ""))
    response = make_response(body, status)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        g.login_csrf,
        httponly=True,
        samesite="Strict",
        secure=cookie_secure(),
        path="/console",
    )
    return response


@bp.post("/login", endpoint="login")
def login() -> Response:
    try:
        form = load(LOGIN, request.form)
    except FormError:
        return login_page(t("login.missing"), 422)
    try:
        token = sign_in(form["username"], form["password"])
    except TooManyAttempts as refused:
        wait = int(refused.details["retry_after"])
        response = login_page(
            t("login.too_many_wait", wait=wait_in_words(wait, current_language())), 429
        )
        response.headers["Retry-After"] = str(wait)
        return response
    if token is None:
        return login_page(t("login.failed"), 401)
    response = redirect(safe_next(form.get("next")))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="Lax",
        secure=cookie_secure(),
        path="/console",
        max_age=current_app.config["CONSOLE_SESSION_HOURS"] * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@bp.post("/logout")
def logout() -> Response:
    sign_out()
    response = redirect(url_for("console.login"))
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


@bp.get("/lang/<code>")
def switch_language(code: str) -> Response:
    """Remember the chosen language in a cookie and go back where the user was."""
    response = redirect(safe_next(request.args.get("next")))
    if code in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            code,
            max_age=365 * 86400,
            samesite="Lax",
            secure=cookie_secure(),
            path="/console",
        )
    return response
