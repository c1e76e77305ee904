"""Sign-in for supervisors and admins: server-side sessions in a cookie, CSRF on every form.

The cookie holds a random token (HttpOnly, SameSite=Lax, Secure over HTTPS); the database
holds its SHA-256 with the user, the session's CSRF token and its expiry, so signing out or
deactivating the account ends the session in every server process at once.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, url_for
from sqlalchemy import delete, select

from server.accounts.login_limits import begin_attempt, settle_attempt
from server.accounts.logins import remote_addr
from server.accounts.passwords import new_token, token_hash, verify_password
from server.errors import AppError, Forbidden, TooManyAttempts
from server.extensions import db
from server.models import ConsoleSession, User
from server.models.base import utcnow
from server.sync.context import Caller, RefData, caller_for
from server.sync.unit_of_work import write_unit

SESSION_COOKIE = "fengling_console"
LOGIN_CSRF_COOKIE = "fengling_login_csrf"
STAFF_ROLES = ("supervisor", "admin")


@dataclass(frozen=True)
class Staff:
    """The signed-in supervisor or admin, and what they may see."""

    user: User
    caller: Caller
    csrf_token: str

    @property
    def is_admin(self) -> bool:
        return self.user.role == "admin"


class CsrfFailed(AppError):
    def __init__(self) -> None:
        super().__init__("csrf_failed", status=400)


def cookie_secure() -> bool:
    return bool(current_app.config["CONSOLE_COOKIE_SECURE"]) or request.is_secure


def load_staff() -> Staff | None:
    """The session's staff member, or None (no cookie, expired, signed out, deactivated)."""
    if "staff" in g:
        return g.staff
    g.staff = None
    token = request.cookies.get(SESSION_COOKIE)
    if token and len(token) <= 128:
        row = db.session.execute(
            select(ConsoleSession, User)
            .join(User, User.id == ConsoleSession.user_id)
            .where(ConsoleSession.token_hash == token_hash(token))
        ).first()
        if row is not None:
            session_row, user = row
            if session_row.expires_at > utcnow() and user.is_active and user.role in STAFF_ROLES:
                ref = RefData.load(db.session)
                g.ref = ref
                g.staff = Staff(user, caller_for(user, None, ref), session_row.csrf_token)
    return g.staff


def staff_required(view: Callable) -> Callable:
    """Signed-in supervisors and admins only; others go to the sign-in page."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if load_staff() is None:
            return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view: Callable) -> Callable:
    @wraps(view)
    @staff_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not g.staff.is_admin:
            raise Forbidden("forbidden")
        return view(*args, **kwargs)

    return wrapped


def check_csrf() -> None:
    """Every POST carries the session's token (or, to sign in, the sign-in cookie's) and,
    when the browser says where it came from, comes from this site.

    :raises CsrfFailed: a missing or wrong token, or a foreign Origin.
    """
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        raise CsrfFailed()
    sent = request.form.get("csrf_token", "")
    if request.endpoint == "console.login":
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    else:
        staff = load_staff()
        expected = staff.csrf_token if staff else ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfFailed()


def sign_in(username: str, password: str) -> str | None:
    """Check the password (outside the write lock) and open a session.

    Returns the new session token, or None for wrong credentials or a non-staff account.
    :raises TooManyAttempts: this username at this address must wait (no device here: the
        limit's bucket is the username and the address, server.accounts.login_limits).
    """
    attempt_id = begin_attempt(username)
    user = db.session.scalar(select(User).where(User.username == username))
    is_valid = verify_password(user.password_hash if user else None, password)
    with write_unit(db.session, end_read=True):
        user = db.session.scalar(select(User).where(User.username == username))
        knows_password = bool(is_valid and user and user.is_active)
        # A worker with the right password is refused here but is no attacker: the attempt
        # does not count towards the limit that would also slow their phone's sign-in.
        settle_attempt(attempt_id, knows_password)
        if not (knows_password and user.role in STAFF_ROLES):
            return None  # the attempt is committed all the same
        now = utcnow()
        db.session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
        token = new_token()
        db.session.add(
            ConsoleSession(
                token_hash=token_hash(token),
                user_id=user.id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + timedelta(hours=current_app.config["CONSOLE_SESSION_HOURS"]),
                remote_addr=remote_addr(),
            )
        )
    return token


def sign_out() -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return
    with write_unit(db.session, end_read=True):
        db.session.execute(
            delete(ConsoleSession).where(ConsoleSession.token_hash == token_hash(token))
        )


def end_sessions_of(user_id: str) -> None:
    """Inside the caller's unit of work: a deactivated user is signed out everywhere."""
    db.session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user_id))


def safe_next(target: str | None) -> str:
    """Only redirect within the console after sign-in."""
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return url_for("console.queue")


__all__ = ["TooManyAttempts", "Staff", "staff_required", "admin_required", "check_csrf"]
