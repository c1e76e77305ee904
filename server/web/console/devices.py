"""Device health: what each phone last reported, which ones have gone quiet, ending a phone's
sign-in (its next API request gets 401 token_expired; the same person signs in again and the
phone keeps its data), and revoking a lost one (401 device_revoked, for good).

A phone that has not synced for days may hold unsent work; the supervisor sees it first and
can call the worker before the work is lost. A revoked phone is no longer expected to sync,
so it is never highlighted as stale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, g, redirect, request, url_for
from marshmallow import fields, missing, validate
from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from werkzeug.wrappers import Response

from server.accounts.console_sessions import Staff, staff_required
from server.accounts.device_auth import token_has_ended
from server.accounts.users import end_device_token, revoke_device
from server.errors import NotFound
from server.extensions import db
from server.models import Device, User
from server.models.base import utcnow
from server.schemas.base import StrictSchema, code_field, text_field
from server.web.console import bp, render_page
from server.web.console.case_page import done_message
from server.web.console.forms import FormError, load, page_field, read_filter
from server.web.console.i18n import t
from server.web.console.paging import paginate

MEGABYTE = 1024 * 1024


class DeviceFilterSchema(StrictSchema):
    """`days`: how long without a sync makes a device stale (default from the config)."""

    days = fields.Integer(validate=validate.Range(1, 3650))
    town = code_field()
    user = fields.UUID()  # one person's devices (the admin's user list links here)
    page = page_field()
    done = text_field(64)  # after a revoke: which message to show (see done_message)


class RevokeForm(StrictSchema):
    """Only the CSRF token is sent; the filters ride along to come back to the same view."""

    days = fields.Integer(validate=validate.Range(1, 3650))
    town = code_field()
    user = fields.UUID()
    page = page_field(load_default=missing)  # absent unless sent


DEVICE_FILTER = DeviceFilterSchema()


def visible_devices(staff: Staff) -> ColumnElement[bool]:
    """A supervisor sees the devices of their town's users; an admin all (needs the User join)."""
    if staff.is_admin:
        return true()
    return User.town_code == staff.user.town_code


def last_sync() -> ColumnElement[Any]:
    """The later of the last push and the last pull, either may be missing."""
    return case(
        (Device.last_push_at.is_(None), Device.last_pull_at),
        (Device.last_pull_at.is_(None), Device.last_push_at),
        (Device.last_push_at > Device.last_pull_at, Device.last_push_at),
        else_=Device.last_pull_at,
    )


def stale_condition(cutoff: datetime) -> ColumnElement[bool]:
    """Not revoked, and neither a push nor a pull since `cutoff` (never synced counts)."""
    return and_(
        Device.is_revoked.is_(False),
        or_(Device.last_push_at.is_(None), Device.last_push_at < cutoff),
        or_(Device.last_pull_at.is_(None), Device.last_pull_at < cutoff),
    )


@dataclass
class DeviceRow:
    device: Device
    display_name: str
    username: str
    town: str | None
    stale: bool

    @property
    def last_sync(self) -> datetime | None:
        times = [t for t in (self.device.last_push_at, self.device.last_pull_at) if t]
        return max(times) if times else None

    @property
    def sign_in(self) -> str:
        """signed_in, ended (ended by a person, or expired) or signed_out (logged out)."""
        device = self.device
        if device.token_hash is None:
            return "signed_out"
        if token_has_ended(device.token_ended_at, device.token_issued_at, device.last_seen_at):
            return "ended"
        return "signed_in"

    @property
    def storage(self) -> str:
        used = self.device.storage_used
        return "" if used is None else f"{used / MEGABYTE:.1f} MB"


@dataclass
class DevicePage:
    rows: list[DeviceRow]
    total: int
    stale: int
    page: int
    pages: int
    days: int


def device_page(staff: Staff, f: dict[str, Any]) -> DevicePage:
    """Stale devices first (longest silent first), then the rest by latest sync; users are
    joined in the same query, so one page costs three queries whatever its size."""
    days = f.get("days") or current_app.config["CONSOLE_STALE_DAYS"]
    stale = stale_condition(utcnow() - timedelta(days=days))
    clauses = [visible_devices(staff)]
    if "town" in f:
        clauses.append(User.town_code == f["town"])
    if "user" in f:
        clauses.append(Device.user_id == str(f["user"]))
    total, stale_total = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((stale, 1), else_=0)), 0))
        .select_from(Device)
        .join(User, User.id == Device.user_id)
        .where(*clauses)
    ).one()
    pager = paginate(total, f.get("page", 1))
    is_stale = case((stale, 1), else_=0)
    synced = last_sync()
    query = (
        select(Device, User.display_name, User.username, User.town_code, is_stale)
        .join(User, User.id == Device.user_id)
        .where(*clauses)
        .order_by(
            is_stale.desc(),
            Device.is_revoked,
            case((is_stale == 1, synced), else_=None).asc().nulls_first(),
            synced.desc().nulls_last(),
            Device.created_at.desc(),
            Device.id,
        )
    )
    rows = [
        DeviceRow(device, name, username, town, bool(flag))
        for device, name, username, town, flag in db.session.execute(pager.of(query))
    ]
    return DevicePage(rows, total, int(stale_total), pager.page, pager.pages, days)


@bp.get("/devices")
@staff_required
def devices() -> tuple[str, int]:
    staff: Staff = g.staff
    query = read_filter(DEVICE_FILTER)
    return render_page(
        "devices.html",
        query.status,
        result=device_page(staff, query.values),
        f=query.values,
        errors=query.errors,
        args=query.link_args("page", "done"),
        done=done_message(),
    )


def find_device(staff: Staff, device_id: str) -> Device:
    """:raises NotFound: unknown, or a device of another town's user (the same answer)."""
    device = db.session.scalar(
        select(Device)
        .join(User, User.id == Device.user_id)
        .where(Device.id == device_id, visible_devices(staff))
    )
    if device is None:
        raise NotFound()
    return device


@bp.post("/devices/<uuid:device_id>/revoke")
@staff_required
def revoke(device_id: Any) -> Response | tuple[str, int]:
    """Revoke a lost phone; revoking twice is harmless (the phone stays revoked)."""
    return act_on_device(str(device_id), revoke_device, "done.device_revoked")


@bp.post("/devices/<uuid:device_id>/end")
@staff_required
def end_sign_in(device_id: Any) -> Response | tuple[str, int]:
    """End a phone's sign-in: it asks for the password again and keeps its data. An admin
    may end any; a supervisor those of their town's people (another town's: 404)."""
    return act_on_device(str(device_id), end_device_token, "done.device_sign_in_ended")


def act_on_device(
    device_id: str, action: Callable[[str], bool], done: str
) -> Response | tuple[str, int]:
    """One device action of the list: the caller must see the device, the form (the list's
    filters, kept for the way back) must be valid, then the action runs.

    :raise 404: a device the caller cannot see, or one the action no longer finds.
    """
    find_device(g.staff, device_id)
    try:
        form = load(RevokeForm(), request.form)
    except FormError as error:
        reasons = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.errors.items())
        return render_page("error.html", 400, message=f"{t('form.invalid')} {reasons}")
    if not action(device_id):
        raise NotFound()
    return redirect(url_for("console.devices", done=done, **form))
