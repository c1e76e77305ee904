"""What a staff member sees in the console, as SQL: the towns of their scope, plus cases
another town asks their town to take over (until that request is decided)."""

from __future__ import annotations

from flask import g
from sqlalchemy import ColumnElement, or_, select, true

from server.accounts.console_sessions import Staff
from server.domain.handoff import PENDING
from server.extensions import db
from server.models import Case, CaseHandoff, Checkin, Site, Town


def sees_mask(column: ColumnElement, staff: Staff) -> ColumnElement[bool]:
    if staff.is_admin:
        return true()
    return column.op("&")(staff.caller.scope.mask) != 0


def visible_cases(staff: Staff) -> ColumnElement[bool]:
    """The offered cases are few and looked up once per request, so the usual query is the
    town mask alone, which the queue's covering index answers without reading the table."""
    if staff.is_admin:
        return true()
    if "offered_case_ids" not in g:
        g.offered_case_ids = list(
            db.session.scalars(
                select(CaseHandoff.case_id).where(
                    CaseHandoff.to_town == staff.user.town_code, CaseHandoff.status == PENDING
                )
            )
        )
    if not g.offered_case_ids:
        return sees_mask(Case.town_mask, staff)
    return or_(sees_mask(Case.town_mask, staff), Case.id.in_(g.offered_case_ids))


def involves_town(bit: int) -> ColumnElement[bool]:
    """Cases whose lead or co-handling towns include the town with this bit."""
    return Case.town_mask.op("&")(1 << bit) != 0


def visible_checkins(staff: Staff) -> ColumnElement[bool]:
    """A check-in is seen by the person's town and by the site's town: a supervisor sees
    those their town's people made anywhere and those others made at their town's sites."""
    if staff.is_admin:
        return true()
    town = staff.user.town_code
    return or_(
        Checkin.town == town,
        Checkin.site_id.in_(select(Site.id).where(Site.town_code == town)),
    )


def visible_towns(staff: Staff) -> ColumnElement[bool]:
    if staff.is_admin:
        return true()
    return Town.code == staff.user.town_code
