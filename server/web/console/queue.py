"""The case queue: filters, sorting, pages, counts per status, and what needs attention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import g
from marshmallow import fields, validate
from sqlalchemy import ColumnElement, Select, String, and_, cast, false, func, or_, select

from server.accounts.console_sessions import Staff, staff_required
from server.domain.handoff import PENDING
from server.domain.workflow import STATUSES, overdue_clause
from server.extensions import db
from server.models import Case, CaseHandoff, MergeConflict, RejectedIntent, Town, User
from server.models.base import utcnow
from server.schemas.base import StrictSchema, UUIDString, code_field, text_field
from server.web.console import CHINA, bp, render_page
from server.web.console.forms import day_field, page_field, read_filter
from server.web.console.paging import paginate
from server.web.console.scope import involves_town, visible_cases

SORTS = {
    "created": Case.created_at,
    "due": Case.due_at,
    "updated": Case.updated_at,
    "number": Case.number,
}


class QueueFilterSchema(StrictSchema):
    """The queue's query string; the same filters drive the CSV and XLSX exports."""

    town = code_field()
    status = fields.String(validate=validate.OneOf(STATUSES))
    category = code_field()
    cross_town = fields.String(validate=validate.OneOf(("yes", "no")))
    overdue = fields.Boolean()
    unassigned = fields.Boolean()
    assignee = UUIDString()
    date_from = day_field()
    date_to = day_field()
    q = text_field(100)
    sort = fields.String(load_default="created", validate=validate.OneOf(tuple(SORTS)))
    dir = fields.String(load_default="desc", validate=validate.OneOf(("asc", "desc")))
    page = page_field()


QUEUE_FILTER = QueueFilterSchema()


def day_start(day: date) -> datetime:
    """Midnight in China Standard Time, as the UTC instant the database compares."""
    return datetime.combine(day, time.min, tzinfo=CHINA)


def filter_clauses(
    staff: Staff, f: dict[str, Any], town_bits: dict[str, int], with_status: bool = True
) -> list:
    clauses: list = [visible_cases(staff)]
    if "town" in f:
        known = f["town"] in town_bits
        clauses.append(involves_town(town_bits[f["town"]]) if known else false())
    if with_status and "status" in f:
        clauses.append(Case.status == f["status"])
    if "category" in f:
        clauses.append(Case.category == f["category"])
    if "cross_town" in f:
        clauses.append(Case.is_cross_town.is_(f["cross_town"] == "yes"))
    if f.get("overdue"):
        clauses.append(overdue_clause(Case.status, Case.due_at, utcnow()))
    if f.get("unassigned"):
        clauses.append(Case.assignee.is_(None))
    if "assignee" in f:
        clauses.append(Case.assignee == f["assignee"])
    if "date_from" in f:
        clauses.append(Case.created_at >= day_start(f["date_from"]))
    if "date_to" in f:
        clauses.append(Case.created_at < day_start(f["date_to"] + timedelta(days=1)))
    if f.get("q"):
        q = f["q"].strip()
        clauses.append(
            or_(
                *(
                    text_match(column, q)
                    for column in (
                        Case.number,
                        Case.title,
                        Case.description,
                        cast(Case.parties, String),
                    )
                )
            )
        )
    return clauses


def text_match(column: ColumnElement, q: str) -> ColumnElement[bool]:
    """Substring match ignoring ASCII case: SQLite's LIKE already does, and lower() on every
    row would double the cost of a search; PostgreSQL needs ILIKE."""
    if db.session.get_bind().dialect.name == "sqlite":
        return column.contains(q, autoescape=True)
    return column.icontains(q, autoescape=True)


def filtered_cases(staff: Staff, f: dict[str, Any]) -> Select:
    """The filtered, sorted queue without paging (exports page through it themselves)."""
    column = SORTS[f.get("sort", "created")]
    order = column.asc() if f.get("dir") == "asc" else column.desc()
    return select(Case).where(and_(*filter_clauses(staff, f, town_bits()))).order_by(order, Case.id)


def town_bits() -> dict[str, int]:
    return dict(db.session.execute(select(Town.code, Town.bit)).all())


@dataclass
class QueuePage:
    cases: list[Case]
    total: int
    counts: dict[str, int]
    page: int
    pages: int
    users: dict[str, str]


def queue_page(staff: Staff, f: dict[str, Any]) -> QueuePage:
    """One page of the queue in four queries, whatever the page size."""
    bits = town_bits()
    clauses = filter_clauses(staff, f, bits, with_status=False)
    counts = dict(
        db.session.execute(
            select(Case.status, func.count()).where(*clauses).group_by(Case.status)
        ).all()
    )
    total = counts.get(f["status"], 0) if "status" in f else sum(counts.values())
    pager = paginate(total, f.get("page", 1))
    cases = list(db.session.scalars(pager.of(filtered_cases(staff, f))))
    users = user_names({c.assignee for c in cases if c.assignee})
    return QueuePage(cases, total, counts, pager.page, pager.pages, users)


def user_names(ids: set[str]) -> dict[str, str]:
    return dict(
        db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()
    )


def attention(staff: Staff) -> dict[str, int]:
    """What waits for this staff member: handoffs to their town, escalations involving it,
    open conflicts and open rejections of their town."""
    from server.web.console.scope import sees_mask

    asked = select(func.count()).select_from(CaseHandoff).where(CaseHandoff.status == PENDING)
    if not staff.is_admin:
        asked = asked.where(CaseHandoff.to_town == staff.user.town_code)
    escalated = (
        select(func.count())
        .select_from(Case)
        .where(Case.status == "escalated", sees_mask(Case.town_mask, staff))
    )
    conflicts = (
        select(func.count())
        .select_from(MergeConflict)
        .join(Case, Case.id == MergeConflict.record_id)
        .where(MergeConflict.status == "open", sees_mask(Case.town_mask, staff))
    )
    rejections = (
        select(func.count()).select_from(RejectedIntent).where(RejectedIntent.status == "open")
    )
    if not staff.is_admin:
        rejections = rejections.join(User, User.id == RejectedIntent.user_id).where(
            User.town_code == staff.user.town_code
        )
    row = db.session.execute(
        select(
            asked.scalar_subquery(),
            escalated.scalar_subquery(),
            conflicts.scalar_subquery(),
            rejections.scalar_subquery(),
        )
    ).one()
    return dict(zip(("handoffs", "escalated", "conflicts", "rejections"), row, strict=True))


def assignable(staff: Staff) -> list[User]:
    query = select(User).where(User.is_active.is_(True), User.role.in_(("worker", "supervisor")))
    if not staff.is_admin:
        query = query.where(User.town_code == staff.user.town_code)
    return list(db.session.scalars(query.order_by(User.town_code, User.display_name)))


@bp.get("/cases")
@staff_required
def queue() -> tuple[str, int]:
    staff: Staff = g.staff
    query = read_filter(QUEUE_FILTER)
    return render_page(
        "queue.html",
        query.status,
        result=queue_page(staff, query.values),
        f=query.values,
        errors=query.errors,
        args=query.link_args("page"),
        statuses=STATUSES,
        attention=attention(staff),
        assignees=assignable(staff),
        handoffs_to_me=handoffs_to(staff),
    )


def handoffs_to(staff: Staff) -> list[tuple[CaseHandoff, Case]]:
    query = (
        select(CaseHandoff, Case)
        .join(Case, Case.id == CaseHandoff.case_id)
        .where(CaseHandoff.status == PENDING)
        .order_by(CaseHandoff.requested_at)
    )
    if not staff.is_admin:
        query = query.where(
            or_(
                CaseHandoff.to_town == staff.user.town_code,
                CaseHandoff.from_town == staff.user.town_code,
            )
        )
    return [(h, c) for h, c in db.session.execute(query.limit(50)).all()]
