"""The supervisor console at /console: server-rendered pages, no script needed.

Every action goes through the same op handlers as a pushed intent (server.web.console.actions),
so it lands in the feed and the phones see it on their next pull. Areas of the console are
modules of this package, each with its own routes, templates and words (translations/).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, g, render_template, request
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from server import clock
from server.clock import CHINA
from server.domain.workflow import is_overdue
from server.errors import AppError
from server.extensions import db
from server.i18n import error_message

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


def local_time(value: datetime | None, with_time: bool = True) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


class Names:
    """Display names of towns and categories for one request (two queries, then cached)."""

    def __init__(self) -> None:
        from server.models import Category, Town

        self.towns = {
            code: (name, name_en)
            for code, name, name_en in db.session.execute(
                select(Town.code, Town.name, Town.name_en).order_by(Town.bit)
            )
        }
        self.categories = {
            code: (name, name_en)
            for code, name, name_en in db.session.execute(
                select(Category.code, Category.name, Category.name_en).order_by(Category.position)
            )
        }

    def town(self, code: str | None) -> str:
        from server.web.console.i18n import current_language

        pair = self.towns.get(code or "")
        return (pair[1] if current_language() == "en" else pair[0]) if pair else (code or "")

    def category(self, code: str | None) -> str:
        from server.web.console.i18n import current_language

        pair = self.categories.get(code or "")
        return (pair[1] if current_language() == "en" else pair[0]) if pair else (code or "")


def names() -> Names:
    if "names" not in g:
        g.names = Names()
    return g.names


def overdue(case: Any) -> bool:
    """超期 on a page: the case's status and due date against the request's "now" (one
    reading of server.clock per request, so every row of a page agrees)."""
    if "overdue_now" not in g:
        g.overdue_now = clock.now()
    return is_overdue(case.status, case.due_at, g.overdue_now)


def csrf_field() -> Markup:
    from server.accounts.console_sessions import LOGIN_CSRF_COOKIE, load_staff

    staff = load_staff()
    token = (
        staff.csrf_token
        if staff
        else g.get("login_csrf") or request.cookies.get(LOGIN_CSRF_COOKIE, "")
    )
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(token)


# What every console template may call (see _globals); a page's own context must not hide
# them: the jobs page once passed its job names as `names` and the header's names() broke.
PAGE_GLOBALS = frozenset(
    ("t", "lang", "staff", "names", "csrf_field", "local_time", "nav_endpoints", "overdue")
)


# Console POST routes that take a bigger body than the app's default limit (a photo upload's):
# endpoint -> config key. Applied before the CSRF check reads the form.
UPLOAD_LIMITS: dict[str, str] = {}


def render_page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """:raises TypeError: the context would hide one of PAGE_GLOBALS."""
    hidden = PAGE_GLOBALS & context.keys()
    if hidden:
        raise TypeError(f"{template}: {', '.join(sorted(hidden))} would hide a page global")
    return render_template(f"console/{template}", **context), status


@bp.before_request
def _csrf() -> Response | None:
    """A form sent after the session ended (expired, signed out elsewhere) goes to the sign-in
    page and back, instead of failing as a forged form; every other POST needs its token."""
    from flask import redirect, url_for

    from server.accounts.console_sessions import check_csrf, load_staff, safe_next

    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if limit_key := UPLOAD_LIMITS.get(request.endpoint or ""):
        request.max_content_length = current_app.config[limit_key]
    if request.endpoint not in ("console.login", "console.logout") and load_staff() is None:
        referrer = urlsplit(request.referrer or "")
        back = referrer.path if referrer.netloc == request.host else ""
        return redirect(url_for("console.login", next=safe_next(back), expired=1))
    if request.endpoint == "console.logout" and load_staff() is None:
        return None  # already signed out: nothing to protect
    check_csrf()
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.errorhandler(AppError)
def _app_error(error: AppError) -> tuple[str, int]:
    db.session.rollback()
    from server.web.console.i18n import current_language

    return render_page(
        "error.html", error.status, message=error_message(error.code, current_language())
    )


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[str, int]:
    from server.web.console.i18n import current_language

    code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
        error.code or 400, "bad_request"
    )
    return render_page(
        "error.html", error.code or 400, message=error_message(code, current_language())
    )


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    if request.blueprint != "console":
        return {}
    from server.accounts.console_sessions import load_staff
    from server.web.console.i18n import current_language, t

    page_globals = {
        "t": t,
        "lang": current_language(),
        "staff": load_staff(),
        "names": names,
        "csrf_field": csrf_field,
        "local_time": local_time,
        "nav_endpoints": current_app.view_functions.keys(),
        "overdue": overdue,
    }
    assert page_globals.keys() == PAGE_GLOBALS
    return page_globals


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


from server.web.console import (  # noqa: E402, F401  (each area module adds its routes to bp)
    admin,
    auth_views,
    case_page,
    checkins,
    devices,
    exports,
    inbox,
    jobs,
    members,
    queue,
    stats,
    unsent_import,
)
