"""Login (device-bound tokens), logout."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select, update

from server.accounts.device_auth import device_auth
from server.accounts.device_keys import device_key_for
from server.accounts.login_limits import begin_attempt, settle_attempt
from server.accounts.logins import bind_device
from server.accounts.passwords import new_token, verify_password
from server.errors import Unauthorized
from server.extensions import db
from server.models import Device, User
from server.schemas.auth import DeviceKeyRequestSchema, LoginSchema
from server.sync.unit_of_work import write_unit
from server.web.api.http import json_body

bp = Blueprint("auth", __name__)


@bp.post("/auth/login")
def login():
    """Exchange a username and password for a token bound to this device.

    :raise 401: invalid_credentials; device_revoked for a revoked device.
    :raise 429: too_many_attempts, with `retry_after` seconds in details and Retry-After.
    """
    body = json_body(LoginSchema())
    # Counted and recorded as a failure first, atomically, so parallel guesses cannot race
    # past the limit (server.accounts.login_limits).
    attempt_id = begin_attempt(body["username"], body["device"]["id"])
    user = db.session.scalar(select(User).where(User.username == body["username"]))
    # The slow password check runs before the write lock is taken, never under it.
    is_valid = verify_password(user.password_hash if user else None, body["password"])
    with write_unit(db.session, end_read=True):
        user = db.session.scalar(select(User).where(User.username == body["username"]))
        succeeded = bool(is_valid and user is not None and user.is_active)
        settle_attempt(attempt_id, succeeded)
        if succeeded:
            token = new_token()
            device = bind_device(user, body["device"], token)
            device_key = device_key_for(device.id, user.id)
    if not succeeded:  # the attempt stays recorded as failed: it counts towards the limit
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
        device_key=device_key,
    )


@bp.post("/auth/device-key")
@device_auth(write=True)
def device_key():
    """The signed-in phone's escrow key again (the one its login returned).

    Why: a phone whose vault has no server-wrapped copy of its data key (updated from a version
    without the vault, or reloaded between sign-in and PIN) could not recover a forgotten PIN;
    it asks for its key while unlocked and online and wraps the data key under it. The key is
    the token's own (device, user) pair, never another person's; a revoked device gets 401.
    The body is optional and, when sent, must be an empty JSON object.
    """
    if request.get_data(cache=True):
        json_body(DeviceKeyRequestSchema())
    return jsonify(device_key=device_key_for(g.device_id, g.caller.user_id))


@bp.post("/auth/logout")
@device_auth(write=True)
def logout():
    """Revoke this device's token; its outbox stays on the phone."""
    db.session.execute(update(Device).where(Device.id == g.device_id).values(token_hash=None))
    return jsonify(ok=True)
