"""The console's two inboxes: intents the server refused, and values that lost a field merge.

Rejections are help for a worker whose work did not arrive: the supervisor reads the reason
and the data as sent and marks the rejection handled (a console bookkeeping write, not a
feed change). Conflicts are settled through the `conflict.resolve` intent, so a new value is
a normal case change in the feed and the author's phone learns how its value was judged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import g, redirect, request, url_for
from marshmallow import fields, validate
from sqlalchemy import ColumnElement, Select, func, select, true, update
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from server.accounts.console_sessions import Staff, staff_required
from server.errors import NotFound
from server.extensions import db
from server.i18n import error_message, translate_details
from server.models import Case, Device, MergeConflict, RejectedIntent, User
from server.models.base import utcnow
from server.schemas.base import StrictSchema
from server.schemas.cases import SEVERITIES
from server.sync.unit_of_work import write_unit
from server.web.console import bp, names, render_page
from server.web.console.actions import ActionRefused, run_op
from server.web.console.case_page import done_message
from server.web.console.forms import FormError, load, page_field, read_filter
from server.web.console.i18n import current_language, t, t_or
from server.web.console.paging import paginate
from server.web.console.scope import sees_mask

REJECTION_STATUSES = ("open", "handled")
CONFLICT_STATUSES = ("open", "resolved")
# Fields whose new value is typed as JSON; the rest are text or a choice of codes.
JSON_FIELDS = ("parties", "involved_towns", "location", "photos")
TEXT_FIELDS = ("title", "description")
MAX_VALUE_CHARS = 20_000


class RejectionFilter(StrictSchema):
    status = fields.String(load_default="open", validate=validate.OneOf(REJECTION_STATUSES))
    page = page_field()
    done = fields.String()  # the message after an action, read by done_message()


class ConflictFilter(StrictSchema):
    status = fields.String(load_default="open", validate=validate.OneOf(CONFLICT_STATUSES))
    page = page_field()
    done = fields.String()


class HandledForm(StrictSchema):
    """Marking a rejection handled carries nothing but the CSRF token."""


class ResolveForm(StrictSchema):
    choice = fields.String(required=True, validate=validate.OneOf(("keep", "incoming", "new")))
    value = fields.String(validate=validate.Length(max=MAX_VALUE_CHARS))
    # The case version the page showed: a case changed since then is not overwritten blindly.
    base_version = fields.Integer(load_default=None, validate=validate.Range(1, 2**31))


@dataclass
class Page:
    """One page of an inbox, with what the rows need to name people and devices."""

    rows: list[Any]
    total: int
    page: int
    pages: int
    users: dict[str, str]
    devices: dict[str, str]


def lookup_names(user_ids: set[str | None], device_ids: set[str | None]) -> tuple[dict, dict]:
    """Display names of users and devices for a page: two queries, whatever its length."""
    users = {u for u in user_ids if u}
    devices = {d for d in device_ids if d}
    user_names = (
        dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(users))).all())
        if users
        else {}
    )
    device_names = (
        dict(db.session.execute(select(Device.id, Device.name).where(Device.id.in_(devices))).all())
        if devices
        else {}
    )
    return user_names, device_names


# Rejections ---------------------------------------------------------------------------------


def visible_rejections(staff: Staff) -> ColumnElement[bool]:
    """A supervisor helps the workers of their own town; an admin helps everyone."""
    if staff.is_admin:
        return true()
    town_users = select(User.id).where(User.town_code == staff.user.town_code)
    return RejectedIntent.user_id.in_(town_users)


def rejections_page(staff: Staff, f: dict[str, Any]) -> Page:
    where = (RejectedIntent.status == f["status"], visible_rejections(staff))
    query = (
        select(RejectedIntent)
        .where(*where)
        .order_by(RejectedIntent.created_at.desc(), RejectedIntent.id.desc())
    )
    count = select(func.count()).select_from(RejectedIntent).where(*where)
    pager = paginate(db.session.scalar(count) or 0, f["page"])
    items = list(db.session.scalars(pager.of(query)))
    users, devices = lookup_names(
        {r.user_id for r in items} | {r.handled_by for r in items}, {r.device_id for r in items}
    )
    return Page(items, pager.total, pager.page, pager.pages, users, devices)


def reason_details(details: Any) -> list[tuple[str, str]]:
    """The rule's details as (field, reasons) lines in the reader's language."""
    translated = translate_details(details, current_language())
    if not isinstance(translated, dict):
        return [("", json.dumps(translated, ensure_ascii=False))] if translated else []
    lines = []
    for key, value in translated.items():
        label = t_or(f"field.{key}", key)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            lines.append((label, " ".join(value)))
        else:
            lines.append(
                (label, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
            )
    return lines


def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


@bp.get("/rejections")
@staff_required
def rejections() -> tuple[str, int]:
    query = read_filter(RejectionFilter())
    f = query.values
    return render_page(
        "rejections.html",
        query.status,
        result=rejections_page(g.staff, f),
        f=f,
        errors=query.errors,
        args={"status": f["status"]},
        statuses=REJECTION_STATUSES,
        done=done_message(),
        error_message=lambda code: error_message(code, current_language()),
        reason_details=reason_details,
        pretty_json=pretty_json,
    )


@bp.post("/rejections/<int(max=9223372036854775807):rejection_id>/handled")
@staff_required
def rejection_handled(rejection_id: int) -> Response:
    """Close a rejection once the worker has been helped; closing twice changes nothing."""
    try:
        load(HandledForm(), request.form)
    except FormError as error:
        raise BadRequest() from error
    staff: Staff = g.staff
    with write_unit(db.session, end_read=True):
        row = db.session.scalar(
            select(RejectedIntent).where(
                RejectedIntent.id == rejection_id, visible_rejections(staff)
            )
        )
        if row is None:
            raise NotFound()
        if row.status == "open":
            db.session.execute(
                update(RejectedIntent)
                .where(RejectedIntent.id == rejection_id)
                .values(status="handled", handled_by=staff.user.id, handled_at=utcnow())
            )
    return redirect(url_for("console.rejections", done="done.rejection_handled"))


# Conflicts ----------------------------------------------------------------------------------


def conflicts_query(staff: Staff) -> Select:
    """Conflicts on the cases this staff member sees, with their case."""
    return (
        select(MergeConflict, Case)
        .join(Case, Case.id == MergeConflict.record_id)
        .where(MergeConflict.entity == "case", sees_mask(Case.town_mask, staff))
    )


def conflicts_page(staff: Staff, f: dict[str, Any]) -> Page:
    where = (MergeConflict.status == f["status"],)
    query = conflicts_query(staff).where(*where).order_by(MergeConflict.at.desc(), MergeConflict.id)
    count = (
        select(func.count())
        .select_from(MergeConflict)
        .join(Case, Case.id == MergeConflict.record_id)
        .where(MergeConflict.entity == "case", sees_mask(Case.town_mask, staff), *where)
    )
    pager = paginate(db.session.scalar(count) or 0, f["page"])
    rows = [(c, case) for c, case in db.session.execute(pager.of(query))]
    users, devices = lookup_names(
        {c.by for c, _ in rows} | {c.resolved_by for c, _ in rows} | {c.kept_by for c, _ in rows},
        {c.device_id for c, _ in rows},
    )
    return Page(rows, pager.total, pager.page, pager.pages, users, devices)


def find_conflict(staff: Staff, conflict_id: str) -> MergeConflict:
    """:raises NotFound: unknown, or on a case this staff member does not see."""
    row = db.session.execute(conflicts_query(staff).where(MergeConflict.id == conflict_id)).first()
    if row is None:
        raise NotFound()
    return row[0]


def readable(field: str, value: Any) -> str:
    """A field's value as a person reads it: names for codes, one line per list."""
    if value is None or value == "" or value == []:
        return "—"
    if field == "severity" and isinstance(value, str):
        return t_or(f"severity.{value}", value)
    if field == "category" and isinstance(value, str):
        return names().category(value)
    if field == "involved_towns" and isinstance(value, list):
        return "、".join(names().town(str(code)) for code in value)
    if field == "parties" and isinstance(value, list) and all(isinstance(p, dict) for p in value):
        return "；".join(party_text(p) for p in value)
    if field == "location" and isinstance(value, dict) and "lat" in value and "lon" in value:
        text = f"{value['lat']}, {value['lon']}"
        return f"{text} ±{value['accuracy_m']} m" if value.get("accuracy_m") is not None else text
    if field == "photos" and isinstance(value, list):
        return t("inbox.photos_count", n=len(value))
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def party_text(party: dict[str, Any]) -> str:
    role = party.get("role")
    extras = [str(party[k]) for k in ("phone", "village") if party.get(k)]
    text = f"{t_or(f'party.{role}', str(role or ''))} {party.get('name', '')}".strip()
    return f"{text}（{'，'.join(extras)}）" if extras else text


def editable(field: str, value: Any) -> str:
    """The starting text of the "new value" input: the kept value, as the widget wants it."""
    if field in JSON_FIELDS:
        return pretty_json(value)
    return "" if value is None else str(value)


def new_value(conflict: MergeConflict, form: dict[str, Any]) -> Any:
    """The typed value for the conflict's field; JSON fields are parsed.

    :raises FormError: the JSON does not parse.
    """
    raw = form.get("value", "")
    if conflict.field not in JSON_FIELDS:
        return raw if conflict.field in TEXT_FIELDS else (raw or None)
    try:
        return json.loads(raw)
    except ValueError as error:
        raise FormError(
            {"value": [t("inbox.bad_json", line=getattr(error, "lineno", 1))]}, "validation_failed"
        ) from error


@bp.get("/conflicts")
@staff_required
def conflicts(
    errors: dict | None = None, message: str = "", error_for: str = "", status: int = 200
) -> tuple[str, int]:
    query = read_filter(ConflictFilter())
    f = query.values
    if errors is not None:
        f = {**f, "status": "open"}  # a refused resolution is shown among the open ones
    result = conflicts_page(g.staff, f)
    shown = dict(errors or query.errors)
    return render_page(
        "conflicts.html",
        status if errors is not None else query.status,
        result=result,
        f=f,
        value_errors=shown.pop("value", []),
        errors=shown,
        message=message,
        error_for=error_for,
        form=request.form if error_for else {},
        args={"status": f["status"]},
        statuses=CONFLICT_STATUSES,
        done=done_message(),
        readable=readable,
        editable=editable,
        json_fields=JSON_FIELDS,
        text_fields=TEXT_FIELDS,
        severities=SEVERITIES,
    )


@bp.post("/conflicts/<uuid:conflict_id>/resolve")
@staff_required
def resolve_conflict(conflict_id: Any) -> Any:
    """Keep the current value, take the one that lost, or write a new one (an intent)."""
    staff: Staff = g.staff
    conflict = find_conflict(staff, str(conflict_id))
    try:
        form = load(ResolveForm(), request.form)
        data: dict[str, Any] = {"choice": form["choice"]}
        if form["choice"] == "new":
            data["value"] = new_value(conflict, form)
    except FormError as error:
        return conflicts(
            errors=error.errors, message=t("form.invalid"), error_for=str(conflict_id), status=422
        )
    try:
        run_op(staff, "conflict.resolve", str(conflict_id), data, form["base_version"])
    except ActionRefused as refused:
        if refused.code == "not_found":
            raise NotFound() from refused
        errors = {
            ("value" if key == conflict.field else key): reasons
            for key, reasons in refused.errors.items()
        }
        return conflicts(
            errors=errors,
            message=refused.message,
            error_for=str(conflict_id),
            status=409 if refused.code in ("already_settled", "stale_record") else 422,
        )
    return redirect(url_for("console.conflicts", done=f"done.conflict_{form['choice']}"))
