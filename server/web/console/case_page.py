"""The case page: every field, photos, timeline, audit and handoffs; and its actions.

Each action is an intent run through server.web.console.actions, so the same rules apply as
to a phone's push and the change reaches the phones in the feed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Response, g, redirect, request, url_for
from marshmallow import fields, validate
from sqlalchemy import and_, or_, select

from server.accounts.console_sessions import Staff, staff_required
from server.domain.workflow import STATUSES, moves_for
from server.errors import NotFound
from server.extensions import db
from server.models import (
    Blob,
    BlobRef,
    Case,
    CaseEvent,
    CaseHandoff,
    Change,
    Device,
    MergeConflict,
    User,
)
from server.models.base import new_id, utcnow
from server.schemas.base import StrictSchema, UUIDString, code_field, text_field
from server.web.api.blobs import photo_response
from server.web.console import bp, render_page
from server.web.console.actions import ActionRefused, run_op
from server.web.console.forms import FormError, load
from server.web.console.i18n import catalogue, t
from server.web.console.queue import assignable
from server.web.console.scope import visible_cases

CONSOLE_EVENT_KINDS = ("note", "follow_up", "mediation")


class TransitionForm(StrictSchema):
    from_status = fields.String(data_key="from", required=True, validate=validate.OneOf(STATUSES))
    to_status = fields.String(data_key="to", required=True, validate=validate.OneOf(STATUSES))
    note = text_field(2000, load_default="")


class AssignForm(StrictSchema):
    assignee = UUIDString(load_default=None)


class EventForm(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(CONSOLE_EVENT_KINDS))
    body = fields.String(required=True, validate=validate.Length(1, 10_000))


class HandoffForm(StrictSchema):
    to_town = code_field(required=True)
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class HandoffDecisionForm(StrictSchema):
    decision = fields.String(
        required=True, validate=validate.OneOf(("accepted", "declined", "cancelled"))
    )
    note = text_field(2000, load_default="")


@dataclass
class CasePageData:
    case: Case
    events: list[CaseEvent]
    audit: list[Change]
    handoffs: list[CaseHandoff]
    conflicts: list[MergeConflict]
    users: dict[str, str]
    devices: dict[str, str]
    stored_photos: set[str]
    moves: list[str] = field(default_factory=list)


def find_case(staff: Staff, case_id: str) -> Case:
    """:raises NotFound: unknown, or not visible to this staff member (the same answer)."""
    case = db.session.scalar(select(Case).where(Case.id == case_id, visible_cases(staff)))
    if case is None:
        raise NotFound()
    return case


def load_case_page(staff: Staff, case_id: str) -> CasePageData:
    """Everything the page shows in a fixed number of queries, however long the timeline."""
    case = find_case(staff, case_id)
    events = list(
        db.session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id)
            .order_by(CaseEvent.at, CaseEvent.created_at)
        )
    )
    event_ids = select(CaseEvent.id).where(CaseEvent.case_id == case.id).scalar_subquery()
    audit = list(
        db.session.scalars(
            select(Change)
            .where(
                or_(
                    and_(Change.entity == "case", Change.record_id == case.id),
                    and_(Change.entity == "case_event", Change.record_id.in_(event_ids)),
                )
            )
            .order_by(Change.seq.desc())
        )
    )
    handoffs = list(
        db.session.scalars(
            select(CaseHandoff)
            .where(CaseHandoff.case_id == case.id)
            .order_by(CaseHandoff.requested_at.desc())
        )
    )
    conflicts = list(
        db.session.scalars(
            select(MergeConflict)
            .where(MergeConflict.entity == "case", MergeConflict.record_id == case.id)
            .order_by(MergeConflict.at.desc())
        )
    )
    user_ids = {
        case.reported_by,
        case.assignee,
        *(e.by for e in events),
        *(c.user_id for c in audit),
        *(h.requested_by for h in handoffs),
        *(h.decided_by for h in handoffs),
        *(c.by for c in conflicts),
    } - {None}
    users = dict(
        db.session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all()
    )
    device_ids = {c.device_id for c in audit if c.device_id}
    devices = dict(
        db.session.execute(select(Device.id, Device.name).where(Device.id.in_(device_ids))).all()
    )
    hashes = set(case.photos) | {h for e in events for h in e.photos}
    # Shown: stored, and named validly by this case or one of its events (a name its author
    # had no right to stays "not uploaded yet", as the photo route refuses it).
    stored = set(
        db.session.scalars(
            select(BlobRef.sha256)
            .distinct()
            .join(Blob, Blob.sha256 == BlobRef.sha256)
            .where(
                BlobRef.sha256.in_(hashes),
                BlobRef.record_id.in_([case.id, *(e.id for e in events)]),
                BlobRef.valid.is_(True),
            )
        )
    )
    return CasePageData(
        case,
        events,
        audit,
        handoffs,
        conflicts,
        users,
        devices,
        stored,
        moves_for(staff.user.role, case.status),
    )


@bp.get("/cases/<uuid:case_id>")
@staff_required
def case_page(
    case_id: Any, errors: dict | None = None, message: str = "", status: int = 200
) -> tuple[str, int]:
    staff: Staff = g.staff
    data = load_case_page(staff, str(case_id))
    sees_case = staff.is_admin or staff.caller.scope.sees(data.case.town_mask)
    return render_page(
        "case.html",
        status,
        d=data,
        c=data.case,
        errors=errors or {},
        message=message,
        assignees=assignable(staff) if sees_case else [],
        sees_case=sees_case,
        event_kinds=CONSOLE_EVENT_KINDS,
        form=request.form if status != 200 else {},
        done=done_message(),
    )


def done_message() -> str:
    """After an action the page says it worked (a key in the query string, never free text)."""
    key = request.args.get("done", "")
    return t(key) if key.startswith("done.") and key in catalogue() else ""


def act(
    case_id: Any,
    op: str,
    record_id: str,
    data: dict,
    base_version: int | None = None,
    done: str = "done.action",
) -> Any:
    """Run the intent; back to the case page with a message, or the page with the reason."""
    try:
        run_op(g.staff, op, record_id, data, base_version)
    except ActionRefused as refused:
        return case_page(
            case_id,
            errors=refused.errors,
            message=refused.message,
            status=409
            if refused.code in ("stale_transition", "already_settled", "invalid_handoff")
            else 422,
        )
    return redirect(url_for("console.case_page", case_id=case_id, done=done))


def form_or_page(case_id: Any, schema: StrictSchema) -> dict | tuple:
    try:
        return load(schema, request.form)
    except FormError as error:
        return case_page(case_id, errors=error.errors, message=t("form.invalid"), status=422)


def case_action(
    case_id: Any,
    schema: StrictSchema,
    intent: Callable[[dict], tuple[str, str, dict]],
    done: str = "done.action",
) -> Any:
    """Check the form and that the case is visible, then run the intent the form describes:
    `intent(form)` gives (op, record id, data)."""
    form = form_or_page(case_id, schema)
    if not isinstance(form, dict):
        return form
    find_case(g.staff, str(case_id))
    op, record_id, data = intent(form)
    return act(case_id, op, record_id, data, done=done)


@bp.post("/cases/<uuid:case_id>/transition")
@staff_required
def transition(case_id: Any) -> Any:
    return case_action(
        case_id,
        TransitionForm(),
        lambda f: (
            "case.transition",
            str(case_id),
            {"from": f["from_status"], "to": f["to_status"], "note": f["note"]},
        ),
    )


@bp.post("/cases/<uuid:case_id>/assign")
@staff_required
def assign(case_id: Any) -> Any:
    return case_action(
        case_id, AssignForm(), lambda f: ("case.assign", str(case_id), {"assignee": f["assignee"]})
    )


@bp.post("/cases/<uuid:case_id>/events")
@staff_required
def add_event(case_id: Any) -> Any:
    """A note or a follow-up visit on the timeline."""
    return case_action(
        case_id,
        EventForm(),
        lambda f: (
            "case_event.create",
            new_id(),
            {
                "case_id": str(case_id),
                "kind": f["kind"],
                "body": f["body"],
                "at": utcnow().isoformat(),
            },
        ),
    )


@bp.post("/cases/<uuid:case_id>/handoff")
@staff_required
def request_handoff(case_id: Any) -> Any:
    return case_action(
        case_id,
        HandoffForm(),
        lambda f: ("case.handoff_request", str(case_id), f),
        done="done.handoff_requested",
    )


@bp.post("/handoffs/<uuid:handoff_id>/decide")
@staff_required
def decide_handoff(handoff_id: Any) -> Any:
    """The handoff's own case decides where the answer is shown, never a form field."""
    handoff = db.session.get(CaseHandoff, str(handoff_id))
    if handoff is None:
        raise NotFound()
    case_id = handoff.case_id
    find_case(g.staff, case_id)
    form = form_or_page(case_id, HandoffDecisionForm())
    if not isinstance(form, dict):
        return form
    return act(
        case_id,
        "case.handoff_decide",
        str(handoff_id),
        form,
        done=f"done.handoff_{form['decision']}",
    )


@bp.get("/photos/<sha256:sha256>")
@staff_required
def photo(sha256: str) -> Response:
    return photo_response(sha256, g.staff.caller.scope, cache_control="private, no-store")
