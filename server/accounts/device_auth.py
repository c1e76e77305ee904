"""Bearer-token authentication of devices and the X-Schema-Version check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from flask import current_app, g, request
from sqlalchemy import Row, bindparam, select

from server.accounts.passwords import token_hash
from server.errors import AppError, Unauthorized
from server.extensions import db
from server.models import Device, User
from server.models.base import utcnow
from server.storage.database import begin_snapshot_read
from server.sync.context import Caller, RefData, caller_for
from server.sync.unit_of_work import FeedWriteUnit, rerun_on_conflict


def check_schema_version() -> None:
    """:raises AppError: 400 when missing or unknown, 426 client_outdated when too old."""
    raw = request.headers.get("X-Schema-Version")
    if raw is None:
        raise AppError("schema_version_missing", status=400)
    try:
        version = int(raw)
    except ValueError as error:
        raise AppError("unsupported_schema_version", status=400) from error
    if version < current_app.config["SCHEMA_VERSION_MIN"]:
        raise AppError(
            "client_outdated", {"min": current_app.config["SCHEMA_VERSION_MIN"]}, status=426
        )
    if version > current_app.config["SCHEMA_VERSION_MAX"]:
        raise AppError(
            "unsupported_schema_version", {"max": current_app.config["SCHEMA_VERSION_MAX"]}
        )


# What a request needs of the device and its user, read as plain columns: loading two ORM
# objects per request cost a tenth of an incremental pull.
SIGNED_IN_COLUMNS = select(
    Device.id.label("device_id"),
    Device.is_revoked,
    Device.last_pull_at,
    Device.last_seen_at,
    Device.token_issued_at,
    Device.token_ended_at,
    User.id,
    User.is_active,
    User.role,
    User.town_code,
    User.scope_towns,
).join(User, User.id == Device.user_id)
SIGNED_IN = SIGNED_IN_COLUMNS.where(Device.token_hash == bindparam("token_hash"))
# The same, for the devices of a group of pushes, checked again under the write lock.
STILL_SIGNED_IN = SIGNED_IN_COLUMNS.add_columns(Device.token_hash).where(
    Device.id.in_(bindparam("device_ids", expanding=True))
)


def request_token_hash() -> str:
    """:raises Unauthorized: no bearer token in the request."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("unauthorized")
    return token_hash(token.strip())


def authenticate() -> Row:
    """The signed-in device and user (SIGNED_IN's columns).

    :raises Unauthorized: invalid_token, device_revoked, account_disabled or token_expired
        (401), in that order: a lost phone and a disabled account say so, whatever the token.
    """
    row = db.session.connection().execute(SIGNED_IN, {"token_hash": request_token_hash()}).first()
    refusal = signed_in_refusal(row)
    if refusal is not None:
        raise refusal
    assert row is not None
    return row


def signed_in_refusal(row: Row | None) -> Unauthorized | None:
    """Why SIGNED_IN's row (None: no such token) may not be used now, if it may not."""
    if row is None:
        return Unauthorized("invalid_token")
    if row.is_revoked:
        return Unauthorized("device_revoked")
    if not row.is_active:
        return Unauthorized("account_disabled")
    if token_has_ended(row.token_ended_at, row.token_issued_at, row.last_seen_at):
        return Unauthorized("token_expired")
    return None


def still_signed_in(device_ids: list[str]) -> dict[str, Row]:
    """SIGNED_IN's rows of these devices, read again in one query (a group of pushes)."""
    rows = db.session.connection().execute(STILL_SIGNED_IN, {"device_ids": sorted(device_ids)})
    return {row.device_id: row for row in rows}


def token_has_ended(
    ended_at: datetime | None, issued_at: datetime | None, last_seen_at: datetime | None
) -> bool:
    """Ended by a person, idle too long, or too old (server.config, DEVICE_TOKEN_*).

    "Used" is the device's last contact, `last_seen_at`, which a sign-in and every push write
    and a pull writes at most once a minute (server.web.api.sync.note_pull): no extra write
    per request. A token without an issue time is treated as too old (fail closed).
    """
    if ended_at is not None or issued_at is None:
        return True
    now = utcnow()
    config = current_app.config
    if now - issued_at > timedelta(days=config["DEVICE_TOKEN_MAX_DAYS"]):
        return True
    last_use = max(issued_at, last_seen_at) if last_seen_at is not None else issued_at
    return now - last_use > timedelta(days=config["DEVICE_TOKEN_IDLE_DAYS"])


def device_auth(*, write: bool) -> Callable:
    """Open the unit of work (writer or snapshot reader), then authenticate the device.

    Sets `g.caller`, `g.signed_in` (authenticate's row) and `g.device_id`. A writer view runs
    inside a feed unit of work (server.sync.unit_of_work), `g.unit`: it commits when the view
    returns, or earlier through `g.unit.commit()` so that the response is rendered outside
    the lock, and rolls back if the view raises.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            check_schema_version()
            if not write:
                begin_snapshot_read(db.session)
                sign_in_device()
                return view(*args, **kwargs)
            # Refuse strangers before queueing for the write lock, then check again under it
            # so that a device revoked meanwhile gets nothing in. The body is read first
            # (within its size limit): a slow upload must never hold the lock.
            authenticate()
            db.session.rollback()
            request.get_data(cache=True)
            return run_writer(view, *args, **kwargs)

        return wrapped

    return decorator


def run_writer(view: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run a writer view in a feed unit of work, again when a concurrent writer won
    (server.sync.unit_of_work.rerun_on_conflict)."""

    def attempt(unit: FeedWriteUnit) -> Any:
        g.unit = unit
        sign_in_device()
        return view(*args, **kwargs)

    return rerun_on_conflict(db.session, attempt)


def sign_in_device() -> None:
    """Authenticate inside the request's unit of work and set what the views read in `g`."""
    g.signed_in = authenticate()
    g.device_id = g.signed_in.device_id
    g.ref = RefData.load(db.session)
    g.caller: Caller = caller_for(g.signed_in, g.device_id, g.ref)
