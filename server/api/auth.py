"""Login (device-bound tokens), logout."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import func, select, update

from server.api.http import json_body
from server.api.security import device_auth
from server.errors import TooManyAttempts, Unauthorized
from server.extensions import db
from server.models import Device, LoginAttempt, User
from server.models.base import utcnow
from server.passwords import new_token, token_hash, verify_password
from server.schemas.auth import LoginSchema
from server.unit_of_work import write_unit

bp = Blueprint("auth", __name__)


@bp.post("/auth/login")
def login():
    """Exchange a username and password for a token bound to this device.

    :raise 401: invalid_credentials; device_revoked for a revoked device.
    :raise 429: too_many_attempts.
    """
    body = json_body(LoginSchema())
    check_rate_limit(body["username"])
    user = db.session.scalar(select(User).where(User.username == body["username"]))
    # The slow password check runs before the write lock is taken, never under it.
    is_valid = verify_password(user.password_hash if user else None, body["password"])
    with write_unit(db.session, end_read=True):
        user = db.session.scalar(select(User).where(User.username == body["username"]))
        succeeded = bool(is_valid and user is not None and user.is_active)
        db.session.add(
            LoginAttempt(username=body["username"], remote_addr=remote_addr(), succeeded=succeeded)
        )
        if succeeded:
            token = new_token()
            device = bind_device(user, body["device"], token)
    if not succeeded:  # the failed attempt is committed: it counts towards the limit
        raise Unauthorized("invalid_credentials")
    return jsonify(
        token=token,
        user={
            "id": user.id,
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role,
            "town": user.town_code,
        },
        device_id=device.id,
    )


@bp.post("/auth/logout")
@device_auth(write=True)
def logout():
    """Revoke this device's token; its outbox stays on the phone."""
    db.session.execute(update(Device).where(Device.id == g.device_id).values(token_hash=None))
    return jsonify(ok=True)


def check_rate_limit(username: str) -> None:
    """Failures per username in the window, counted in the database across processes."""
    window = timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    failures = db.session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.username == username,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at > utcnow() - window,
        )
    )
    if failures >= current_app.config["LOGIN_MAX_FAILURES"]:
        raise TooManyAttempts()


def bind_device(user: User, info: dict, token: str) -> Device:
    """Register the device or re-bind it to this user with a fresh token.

    :raises Unauthorized: device_revoked, a revoked phone stays revoked.
    """
    device = db.session.get(Device, info["id"])
    if device is not None and device.is_revoked:
        raise Unauthorized("device_revoked")
    if device is None:
        device = Device(id=info["id"])
        db.session.add(device)
    device.user_id = user.id
    device.name = info["name"]
    device.platform = info["platform"]
    device.app_version = info["app_version"]
    device.token_hash = token_hash(token)
    device.last_seen_at = utcnow()
    return device


def remote_addr() -> str:
    return (request.remote_addr or "")[:64]
