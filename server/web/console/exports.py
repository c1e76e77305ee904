"""Downloads of the filtered case queue as CSV or XLSX, headers and names in the user's
language, so a supervisor can hand the list to a meeting or a report as they see it.

The queue's own query string and query (server.web.console.queue) drive the export, so what is
downloaded is exactly what the queue shows, over all pages. Rows are read in chunks and user
names come from one query, so memory and query count stay flat with the number of cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response, g
from sqlalchemy import select

from server.accounts.console_sessions import Staff, staff_required
from server.domain.workflow import is_overdue
from server.extensions import db
from server.models import Case, User
from server.models.base import utcnow
from server.web.console import CHINA, bp, local_time, names, render_page
from server.web.console.forms import read_filter
from server.web.console.i18n import current_language, t, t_or
from server.web.console.queue import QUEUE_FILTER, filtered_cases
from server.web.console.tables import table_response

CHUNK = 500
COLUMNS = (
    "number",
    "title",
    "status",
    "category",
    "severity",
    "lead_town",
    "co_towns",
    "assignee",
    "reported_by",
    "created_at",
    "due_at",
    "overdue",
    "cross_town",
    "parties",
    "description",
)
SELECTED = (
    Case.number,
    Case.title,
    Case.status,
    Case.category,
    Case.severity,
    Case.primary_town,
    Case.involved_towns,
    Case.assignee,
    Case.reported_by,
    Case.created_at,
    Case.due_at,
    Case.is_cross_town,
    Case.parties,
    Case.description,
)


def parties_text(parties: list[dict[str, Any]] | None) -> str:
    """Names with their role, as a person would write them in a register."""
    english = current_language() == "en"
    out = []
    for party in parties or []:
        if not isinstance(party, dict):
            continue
        role = party.get("role") or ""
        role_text = t_or(f"party.{role}", role) if role else ""
        name = str(party.get("name") or "")
        if role_text:
            out.append(f"{name} ({role_text})" if english else f"{name}（{role_text}）")
        else:
            out.append(name)
    return "、".join(out)


def case_rows(staff: Staff, f: dict[str, Any]) -> Iterator[list[Any]]:
    """The queue's cases as sheet rows, fetched CHUNK at a time."""
    n = names()
    users = dict(db.session.execute(select(User.id, User.display_name)).all())
    yes, no = t("filter.yes"), t("filter.no")
    now = utcnow()
    query = filtered_cases(staff, f).with_only_columns(*SELECTED).execution_options(yield_per=CHUNK)
    for (
        number,
        title,
        status,
        category,
        severity,
        lead,
        co_towns,
        assignee,
        reporter,
        created,
        due,
        cross,
        parties,
        description,
    ) in db.session.execute(query):
        yield [
            number,
            title,
            t_or(f"status.{status}", status),
            n.category(category),
            t_or(f"severity.{severity}", severity),
            n.town(lead),
            [n.town(code) for code in co_towns or []],
            users.get(assignee, assignee) if assignee else "",
            users.get(reporter, reporter) if reporter else "",
            created,
            local_time(due, with_time=False),
            yes if is_overdue(status, due, now) else no,
            yes if cross else no,
            parties_text(parties),
            description or "",
        ]


def invalid_filter(errors: dict[str, list[str]]) -> tuple[str, int]:
    """A bad query string is refused whole: a partial filter would export the wrong rows."""
    details = "；".join(
        f"{t_or('filter.' + name, name)}: {' '.join(reasons)}" for name, reasons in errors.items()
    )
    return render_page("error.html", 400, message=f"{t('export.invalid')}{details}")


@bp.get("/cases/export.<any(csv,xlsx):fmt>")
@staff_required
def export_cases(fmt: str) -> Response | tuple[str, int]:
    staff: Staff = g.staff
    query = read_filter(QUEUE_FILTER)
    if query.errors:
        return invalid_filter(query.errors)
    f = {key: value for key, value in query.values.items() if key != "page"}
    stamp = utcnow().astimezone(CHINA).strftime("%Y%m%d-%H%M")
    headers = [t(f"export.col.{column}") for column in COLUMNS]
    return table_response(
        fmt,
        f"{t('export.cases_filename')}-{stamp}",
        t("export.cases_sheet"),
        headers,
        case_rows(staff, f),
    )
